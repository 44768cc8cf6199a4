"""The engine: every pack loaded once, compiled into lookups, then asked per contact.

``PolicyEngine.load`` reads ``policies/*.toml``, refuses to start on any problem or with no
rule at all, and indexes the rules by (channel, purpose) and jurisdiction code, so that
``evaluate`` looks at only the rules that can apply. ``version`` is a hash of the files,
recorded with every decision: changing any byte of any pack is a new version.
"""

import hashlib
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Self

import structlog

from policy.calendars import calendar_versions
from policy.facts import Facts
from policy.jurisdictions import expand, is_valid_code
from policy.kinds.base import RuleIdentity
from policy.local_days import first_instant_of, local_days, possible_days, zones_of
from policy.packs import Pack, PolicyLoadError, read_pack
from policy.periods import Period
from policy.reasons import Reason
from policy.requirements import REQUIREMENTS
from policy.rules import Rule
from policy.vocabulary import Channel, LegalException, Purpose

POLICY_ERROR = "policy.error"
UNKNOWN_JURISDICTION = "policy.unknown_jurisdiction"
NOT_COVERED = "policy.jurisdiction_not_covered"

log = structlog.get_logger(__name__)

_Check = Callable[[Facts, Any, RuleIdentity], Reason | None]


@dataclass(frozen=True, slots=True)
class _Compiled:
    order: int  # position in load order: reasons come out in the order of the packs
    rule: Rule
    check: _Check
    lapses_at: Callable[[Facts, Any], datetime | None] | None


# (channel, purpose, the customer's expanded codes, the exception invoked)
_SelectKey = tuple[Channel | None, Purpose, frozenset[str], LegalException | None]
_SELECT_CACHE = 16_384


class _Selection(NamedTuple):
    governed: bool  # some law governs this channel and purpose at all
    candidates: tuple[_Compiled, ...]  # the rules that can apply, in load order
    lapsing: tuple[_Compiled, ...]  # of those, the ones whose allow can lapse with time
    starts: tuple[date, ...]  # the days those rules come into force, in order


class Explanation(NamedTuple):
    rule: Rule
    applies: bool
    why: str
    reason: Reason | None


class PolicyEngine:
    """Answers "may we, and if not, why" from the loaded law, for one contact at a time."""

    def __init__(self, rules: Iterable[Rule], *, version: str) -> None:
        self.rules = tuple(rules)
        self.version = version
        _refuse_unusable(self.rules)
        self._compiled = tuple(
            _Compiled(order, rule, (kind := REQUIREMENTS[rule.requires]).check, kind.lapses_at)
            for order, rule in enumerate(self.rules)
        )
        # A check that invokes no exception never meets a rule that only judges under one;
        # a check that invokes one looks at every rule and skips those it lifts.
        self._index = _index([c for c in self._compiled if c.rule.judges_under(None)])
        self._index_invoked = _index(self._compiled)
        self._rules_for: dict[_SelectKey, _Selection] = {}
        self._codes = frozenset(code for rule in self.rules for code in rule.jurisdictions)
        self._uncovered_memo: dict[tuple[str, ...], tuple[Reason, ...]] = {}
        # How far back any rule looks at past contacts (the state laws' 24 hours): the gate
        # loads at least that much history for every check.
        self.lookbacks: tuple[Period, ...] = tuple(
            {period for rule in self.rules if (period := rule.params.lookback()) is not None}
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Load every ``*.toml`` in ``directory``, in name order; refuse on any problem."""
        if not directory.is_dir():
            raise PolicyLoadError([f"{directory}: no such policy directory"])
        files = [(path, _read(path)) for path in _pack_paths(directory)]
        if not files:
            raise PolicyLoadError([f"{directory}: no *.toml pack; refusing to run with no law"])
        packs: list[Pack] = []
        problems: list[str] = []
        for path, data in files:
            try:
                packs.append(read_pack(str(path), data))
            except PolicyLoadError as error:
                problems.extend(error.problems)
        problems.extend(_duplicate_pack_names(packs))
        if problems:
            raise PolicyLoadError(problems)
        version = policy_version(((path.name, data) for path, data in files), calendar_versions())
        return cls((rule for pack in packs for rule in pack.rules), version=version)

    def evaluate(self, facts: Facts) -> tuple[Reason, ...]:
        """Every reason from every rule that applies to these facts; empty means allowed."""
        _require_aware(facts.send_at)
        scope = _scope(facts.jurisdictions)
        governed, candidates, _, _ = self._selected(facts, scope.covering)
        # Unknown is deny, but only where some law governs this kind of contact at all.
        reasons = list(self._unchosen(scope)) if governed else []
        days = possible_days(facts.send_at)
        for compiled in candidates:
            if _in_force(compiled.rule, facts, days):
                reason = _judge(compiled, facts)
                if reason is not None:
                    reasons.append(reason)
        return tuple(reasons)

    def place_reasons(self, facts: Facts) -> tuple[Reason, ...]:
        """The reasons ``evaluate`` gives before any rule's: the customer's places whose law
        cannot be chosen (an unknown code, or one no pack covers), where law governs."""
        scope = _scope(facts.jurisdictions)
        if not self._selected(facts, scope.covering).governed:
            return ()
        return self._unchosen(scope)

    def _unchosen(self, scope: "_Scope") -> tuple[Reason, ...]:
        return (*scope.unknown, *self._uncovered(scope.known))

    def _uncovered(self, known: tuple[str, ...]) -> tuple[Reason, ...]:
        """A reason for each of the customer's places that no rule of any pack names, nor
        its country or group: a place whose law is not loaded is not a place without law."""
        found = self._uncovered_memo.get(known)
        if found is None:
            if len(self._uncovered_memo) >= _SELECT_CACHE:  # a bound, should places be many
                self._uncovered_memo.clear()
            found = self._uncovered_memo[known] = tuple(
                _not_covered(code) for code in known if not expand((code,)) & self._codes
            )
        return found

    def holds_until(self, facts: Facts, until: datetime) -> datetime:
        """How long an allow on these facts holds, at most ``until``: the first instant after
        send_at at which a rule in force would deny it with time alone (calling hours
        closing, a consent or a notice running out, a list's copy going stale), or a rule
        may come into force. A rule that cannot say ends it at once."""
        ends = [until]
        days = possible_days(facts.send_at)
        selection = self._selected(facts, _scope(facts.jurisdictions).covering)
        if selection.starts and selection.starts[-1] > days[0]:  # seldom: a rule yet to start
            coming = _next_start(selection.starts, facts, days[0])
            if coming is not None:
                ends.append(coming)
        for compiled in selection.lapsing:
            lapses_at = compiled.lapses_at
            if lapses_at is None or not _in_force(compiled.rule, facts, days):
                continue
            try:
                end = lapses_at(facts, compiled.rule.params)
            except Exception as error:  # fail closed: an allow that cannot be bounded ends
                failed = type(error).__name__
                log.error("policy.horizon_failed", rule=compiled.rule.id, error=failed)
                return facts.send_at
            if end is not None and end > facts.send_at:
                ends.append(end)
        return min(ends)

    def _selected(self, facts: Facts, covering: frozenset[str]) -> _Selection:
        key = (facts.channel, facts.purpose, covering, facts.exception)
        found = self._rules_for.get(key)
        if found is None:
            if len(self._rules_for) >= _SELECT_CACHE:  # a bound, should places be many
                self._rules_for.clear()
            found = self._rules_for[key] = self._select(key)
        return found

    def _select(self, key: _SelectKey) -> _Selection:
        """Whether any law governs this channel and purpose, and the rules that can apply to
        it in these places under this exception, in load order. Memoised per key by
        ``evaluate``: the combinations are few, and this is the costly part of a lookup."""
        channel, purpose, covering, exception = key
        index = self._index if exception is None else self._index_invoked
        by_code = index.get((channel, purpose), {})
        candidates = tuple(
            compiled
            for compiled in _candidates(by_code, covering)
            if exception is None or compiled.rule.judges_under(exception)
        )
        lapsing = tuple(compiled for compiled in candidates if compiled.lapses_at is not None)
        starts = tuple(sorted({compiled.rule.effective_from for compiled in candidates}))
        return _Selection(bool(by_code), candidates, lapsing, starts)

    def explain(self, facts: Facts) -> list[Explanation]:
        """For every rule, whether it applies to these facts, why (not), and its reason."""
        _require_aware(facts.send_at)
        scope = _scope(facts.jurisdictions)
        explained = []
        for compiled in self._compiled:
            misses = _misses(compiled.rule, facts, scope.covering)
            if misses:
                explained.append(Explanation(compiled.rule, False, "; ".join(misses), None))
            elif not compiled.rule.judges_under(facts.exception):
                lifted = _lifted_because(compiled.rule, facts.exception)
                explained.append(Explanation(compiled.rule, False, lifted, None))
            else:
                why = _applies_because(compiled.rule, facts, scope.covering)
                explained.append(Explanation(compiled.rule, True, why, _judge(compiled, facts)))
        return explained


def _pack_paths(directory: Path) -> list[Path]:
    """``*.toml`` files in name order; hidden ones (editor locks, backups) are not law."""
    return sorted(
        path
        for path in directory.glob("*.toml")
        if not path.name.startswith(".") and path.is_file()
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise PolicyLoadError([f"{path}: cannot be read: {error.strerror}"]) from None


def policy_version(
    files: Iterable[tuple[str, bytes]], calendars: Mapping[str, str] | None = None
) -> str:
    """``sha256:`` over each file's name and bytes, in name order, each length-prefixed,
    then each calendar package's name and version (``policy.calendars``): a new holiday or
    DST rule changes decisions as a pack edit does."""
    digest = hashlib.sha256()
    named = [(f"calendar:{name}", version.encode()) for name, version in (calendars or {}).items()]
    for name, data in [*sorted(files), *sorted(named)]:
        encoded = name.encode("utf-8")
        for part in (encoded, data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return f"sha256:{digest.hexdigest()}"


def _candidates(
    by_code: dict[str, tuple[_Compiled, ...]], covering: frozenset[str]
) -> list[_Compiled]:
    found = {compiled.order: compiled for code in covering for compiled in by_code.get(code, ())}
    return [found[order] for order in sorted(found)]


def _refuse_unusable(rules: Sequence[Rule]) -> None:
    if not rules:
        raise PolicyLoadError(["no rule in any pack; refusing to run with no law"])
    first_seen: dict[str, Rule] = {}
    problems = []
    for rule in rules:
        earlier = first_seen.setdefault(rule.id, rule)
        if earlier is not rule:
            problems.append(
                f"{_where(rule)}: rules.id = {rule.id!r}: already defined at {_where(earlier)}"
            )
    if problems:
        raise PolicyLoadError(problems)


def _duplicate_pack_names(packs: Sequence[Pack]) -> list[str]:
    first_seen: dict[str, Pack] = {}
    problems = []
    for pack in packs:
        earlier = first_seen.setdefault(pack.name, pack)
        if earlier is not pack:
            problems.append(
                f"{pack.source}: pack.name = {pack.name!r}: already used by {earlier.source}"
            )
    return problems


def _where(rule: Rule) -> str:
    return f"{rule.source}:{rule.line}" if rule.line is not None else rule.source


_Key = tuple[Channel | None, Purpose]


def _index(compiled: Sequence[_Compiled]) -> dict[_Key, dict[str, tuple[_Compiled, ...]]]:
    """(channel, purpose) -> jurisdiction code -> rules, in load order.

    A rule with no channels is filed under every channel and under None (a data-use check).
    """
    index: defaultdict[_Key, defaultdict[str, list[_Compiled]]] = defaultdict(
        lambda: defaultdict(list)
    )
    every_channel: tuple[Channel | None, ...] = (*Channel, None)
    for entry in compiled:
        for channel in entry.rule.channels or every_channel:
            for purpose in entry.rule.purposes:
                for code in entry.rule.jurisdictions:
                    index[(channel, purpose)][code].append(entry)
    return {
        key: {code: tuple(rules) for code, rules in codes.items()} for key, codes in index.items()
    }


class _Scope(NamedTuple):
    known: tuple[str, ...]  # the customer's valid codes
    covering: frozenset[str]  # those, widened by ``expand``
    unknown: tuple[Reason, ...]  # one reason per code no rule can be chosen for


@lru_cache(maxsize=4096)
def _scope(codes: frozenset[str]) -> _Scope:
    """Expansion runs per contact and the sets repeat, so it is cached by the frozen set."""
    known = sorted(code for code in codes if is_valid_code(code, allow_groups=True))
    unknown = sorted(codes.difference(known))
    reasons = tuple(_unknown_jurisdiction(code) for code in unknown)
    if not codes:
        reasons = (_unknown_jurisdiction(None),)
    return _Scope(tuple(known), expand(known), reasons)


def _unknown_jurisdiction(code: str | None) -> Reason:
    # Unknown is deny: a customer whose place we cannot read may be under any law.
    problem = (
        "has no jurisdiction on record"
        if code is None
        else f"has the jurisdiction {code!r}, which is not an ISO 3166 code"
    )
    return Reason(
        rule=UNKNOWN_JURISDICTION,
        regime="policy",
        citation="ISO 3166-1 alpha-2 / ISO 3166-2",
        message=f"The customer {problem}, so the law that applies cannot be chosen.",
    )


def _not_covered(code: str) -> Reason:
    return Reason(
        rule=NOT_COVERED,
        regime="policy",
        citation="policies/README.md: a pack for every place the customers are in",
        message=f"No policy pack covers the customer's jurisdiction {code!r}, so whether "
        "its law allows this cannot be decided: load a pack for it.",
    )


def _judge(compiled: _Compiled, facts: Facts) -> Reason | None:
    """Run one requirement; if it fails, deny with ``policy.error`` (fail closed)."""
    rule = compiled.rule
    try:
        return compiled.check(facts, rule.params, rule)
    except Exception as error:  # any failure must deny, never allow
        log.error("policy.requirement_failed", rule=rule.id, error=type(error).__name__)
        return Reason(
            rule=POLICY_ERROR,
            regime=rule.regime,
            citation=rule.citation,
            message=f"Rule {rule.id} could not be evaluated, so the contact is refused.",
        )


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("send_at must be timezone-aware")


def _in_force(rule: Rule, facts: Facts, days: tuple[date, date] | None = None) -> bool:
    """In force on the customer's local date of send_at (any of them, if it is unsure).

    ``days`` is ``possible_days(send_at)``, passed in by ``evaluate`` to compute it once.
    """
    first, last = days or possible_days(facts.send_at)
    until = rule.effective_until
    # The usual cases, decided by comparing dates: no start or end within reach of send_at.
    if rule.effective_from <= first and (until is None or last < until):
        return True
    if last < rule.effective_from or (until is not None and until <= first):
        return False
    return any(rule.in_force_on(day) for day in _customer_days(facts))


def _next_start(starts: Sequence[date], facts: Facts, first: date) -> datetime | None:
    """The first instant after send_at at which a rule not yet in force for the customer
    may come into force: a new law may deny what the old one allowed."""
    later = starts[bisect_right(starts, first) :]
    zones = _customer_zones(facts)
    return next(
        (begins for day in later if (begins := first_instant_of(day, zones)) > facts.send_at),
        None,
    )


def _customer_zones(facts: Facts) -> Iterable[str]:
    """The zones the customer may be in: those on record, else their places' zones."""
    return facts.time_zones or zones_of(facts.jurisdictions)


def _customer_days(facts: Facts) -> frozenset[date]:
    return local_days(facts.send_at, _customer_zones(facts))


def _days_text(facts: Facts) -> str:
    return " / ".join(str(day) for day in sorted(_customer_days(facts)))


def _misses(rule: Rule, facts: Facts, covering: frozenset[str]) -> list[str]:
    misses = []
    if not rule.covers_channel(facts.channel):
        channel = facts.channel or "none (a data-use check)"
        misses.append(f"channel {channel} is not one of {', '.join(rule.channels)}")
    if facts.purpose not in rule.purposes:
        misses.append(f"purpose {facts.purpose} is not one of {', '.join(rule.purposes)}")
    if covering.isdisjoint(rule.jurisdictions):
        where = ", ".join(sorted(covering)) or "nowhere known"
        misses.append(f"customer is in {where}, not in {', '.join(rule.jurisdictions)}")
    if not _in_force(rule, facts):
        when = f"from {rule.effective_from}"
        if rule.effective_until is not None:
            when += f" until before {rule.effective_until}"
        misses.append(
            f"not in force on {_days_text(facts)} (customer's local date): in force {when}"
        )
    return misses


def _lifted_because(rule: Rule, exception: LegalException | None) -> str:
    if exception is not None and exception in rule.exempt_under:
        return f"not applied: the caller invoked exception {exception}"
    invoked = f"exception {exception}" if exception is not None else "no exception"
    only = " or ".join(sorted(rule.only_under))
    return f"not applied: it judges only disclosures under {only}, and the caller invoked {invoked}"


def _applies_because(rule: Rule, facts: Facts, covering: frozenset[str]) -> str:
    channel = facts.channel or "none (a data-use check)"
    places = ", ".join(sorted(covering.intersection(rule.jurisdictions)))
    return (
        f"applies: channel {channel}, purpose {facts.purpose}, customer in {places}, "
        f"in force on {_days_text(facts)} (since {rule.effective_from})"
    )
