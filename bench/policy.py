"""Benchmark: one in-process decision on the compiled policy tables against the same rules
as a pycasbin ABAC model, in the same run (run by hand: python -m bench.policy).

Both judge the same facts: a mix of EU and US customers, email / SMS / post marketing,
profiling and third-party sharing, with and without consent, objections and notices. The
casbin side is one policy line per rule, each rule an ``eval()`` of a condition on the
request's attributes, and ``enforce_ex`` names the rule that matched, as the gate needs to.
Before timing, the two must agree on every sample (which rules deny).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import casbin

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, Facts
from policy.jurisdictions import expand
from policy.vocabulary import Channel, ConsentStatus, PreferenceStatus, Purpose, Source

POLICIES = Path(__file__).resolve().parents[1] / "policies"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
SPEEDUP_TARGET = 25.0
P50_TARGET_US = 20.0

MODEL = """
[request_definition]
r = sub

[policy_definition]
p = rule, cond

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = eval(p.cond)
"""

# The four rules of policies/gdpr.toml and glba.toml, as casbin conditions.
POLICY = """
p, eprivacy.art13_1.e_marketing_consent, r.sub.eea and r.sub.purpose == 'marketing' and r.sub.channel in ('email', 'sms') and not (r.sub.marketing_granted and r.sub.opted_in)
p, gdpr.art21.marketing_objection, r.sub.eea and r.sub.purpose in ('marketing', 'profiling') and r.sub.marketing_objected
p, glba.opt_out.third_party_sharing, r.sub.us and r.sub.purpose == 'share_third_parties' and r.sub.sharing_opted_out
p, glba.initial_notice.opt_out_window, r.sub.us and r.sub.purpose == 'share_third_parties' and not r.sub.notice_30_days
p, tcpa.calling_hours, r.sub.us and r.sub.purpose == 'marketing' and r.sub.channel in ('phone', 'sms') and not r.sub.within_8_to_21
p, us_fl.calling_hours, r.sub.florida and r.sub.purpose == 'marketing' and r.sub.channel in ('phone', 'sms') and not r.sub.within_8_to_20
"""  # noqa: E501 - one casbin policy line per rule


@dataclass(frozen=True)
class Subject:
    """The request as casbin sees it: flat attributes derived from the facts."""

    eea: bool
    us: bool
    channel: str
    purpose: str
    marketing_granted: bool
    marketing_objected: bool
    opted_in: bool
    sharing_opted_out: bool
    notice_30_days: bool
    florida: bool
    within_8_to_21: bool  # casbin has no clock of its own: local hours come precomputed
    within_8_to_20: bool


def subject_of(facts: Facts) -> Subject:
    places = expand(facts.jurisdictions)
    marketing = facts.consents.get(Purpose.MARKETING)
    sharing = facts.consents.get(Purpose.SHARE_THIRD_PARTIES)
    notices = facts.notices.get("glba_initial", ())
    return Subject(
        eea="EEA" in places,
        us="US" in places,
        channel=str(facts.channel or ""),
        purpose=str(facts.purpose),
        marketing_granted=marketing is not None and marketing.status is ConsentStatus.GRANTED,
        marketing_objected=marketing is not None and marketing.status is ConsentStatus.OBJECTED,
        opted_in=facts.channel_status is PreferenceStatus.OPTED_IN,
        sharing_opted_out=sharing is not None and sharing.status is not ConsentStatus.GRANTED,
        notice_30_days=any(at + timedelta(days=30) <= facts.send_at for at in notices),
        florida="US-FL" in places,
        within_8_to_21=_within(facts, 21),
        within_8_to_20=_within(facts, 20),
    )


def _within(facts: Facts, closing_hour: int) -> bool:
    """From 08:00 up to the closing hour, local time, in every zone the customer may be in."""
    return bool(facts.time_zones) and all(
        clock_time(8) <= facts.send_at.astimezone(ZoneInfo(zone)).time() < clock_time(closing_hour)
        for zone in facts.time_zones
    )


def sample_facts(rng: random.Random) -> Facts:
    purpose = rng.choice([Purpose.MARKETING, Purpose.PROFILING, Purpose.SHARE_THIRD_PARTIES])
    consents = {}
    if rng.random() < 0.6:
        status = rng.choice(list(ConsentStatus))
        consents[Purpose.MARKETING] = ConsentFact(status, NOW - timedelta(days=100))
    if rng.random() < 0.4:
        status = rng.choice(list(ConsentStatus))
        consents[Purpose.SHARE_THIRD_PARTIES] = ConsentFact(status, NOW - timedelta(days=100))
    notices = (
        {"glba_initial": (NOW - timedelta(days=rng.randint(1, 60)),)} if rng.random() < 0.7 else {}
    )
    channel = (
        None
        if purpose is not Purpose.MARKETING
        else rng.choice([Channel.EMAIL, Channel.SMS, Channel.POST])
    )
    return Facts(
        jurisdictions=frozenset({rng.choice(["ES", "FR", "US-NY", "US-FL", "DE"])}),
        channel=channel,
        purpose=purpose,
        source=Source.CAMPAIGN,
        send_at=NOW,
        consents=consents,
        channel_status=rng.choice(list(PreferenceStatus)),
        notices=notices,
    )


def casbin_enforcers() -> dict[str, casbin.Enforcer]:
    """One enforcer per rule: casbin answers allow or deny, and the gate needs every reason."""
    enforcers = {}
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as directory:
        folder = Path(directory)  # casbin reads its files once, at construction
        (folder / "model.conf").write_text(MODEL)
        for line in POLICY.strip().splitlines():
            rule = line.split(",")[1].strip()
            policy_file = folder / f"{rule}.csv"
            policy_file.write_text(line + "\n")
            enforcers[rule] = casbin.Enforcer(str(folder / "model.conf"), str(policy_file))
    return enforcers


def timed(decide: Callable[[Facts], object], samples: list[Facts], rounds: int) -> list[float]:
    """Per-decision times in microseconds, each measured over one pass of the samples."""
    per_decision = []
    for _ in range(rounds):
        start = time.perf_counter()
        for facts in samples:
            decide(facts)
        per_decision.append((time.perf_counter() - start) / len(samples) * 1e6)
    return per_decision


def p50(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.policy", description=__doc__)
    parser.add_argument("--samples", type=int, default=2_000, help="facts judged per round")
    parser.add_argument("--rounds", type=int, default=15, help="timed passes over the samples")
    args = parser.parse_args(argv)
    rng = random.Random(2026)
    samples = [sample_facts(rng) for _ in range(args.samples)]
    engine = PolicyEngine.load(POLICIES)
    enforcers = casbin_enforcers()

    def compiled(facts: Facts) -> list[str]:
        return sorted(reason.rule for reason in engine.evaluate(facts))

    def with_casbin(facts: Facts) -> list[str]:
        subject = subject_of(facts)
        return sorted(rule for rule, enforcer in enforcers.items() if enforcer.enforce(subject))

    disagreements = sum(1 for facts in samples if compiled(facts) != with_casbin(facts))
    if disagreements:
        raise SystemExit(f"the two disagree on {disagreements} of {len(samples)} samples")
    denied = sum(1 for facts in samples if compiled(facts))
    fast = timed(compiled, samples, args.rounds)
    slow = timed(with_casbin, samples, args.rounds)
    speedup = p50(slow) / p50(fast)
    print(f"{len(samples)} facts ({denied} denied), {args.rounds} rounds; both agree on every one")
    print()
    print("| engine | p50 us / decision | min us | x compiled |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| compiled tables | {p50(fast):.2f} | {min(fast):.2f} | 1.0 |")
    print(f"| pycasbin ABAC | {p50(slow):.2f} | {min(slow):.2f} | {speedup:.1f} |")
    print()
    print(f"target: >= {SPEEDUP_TARGET:.0f} x faster: {speedup:.1f} "
          f"{'ok' if speedup >= SPEEDUP_TARGET else 'FAIL'}")  # fmt: skip
    print(f"target: p50 <= {P50_TARGET_US:.0f} us: {p50(fast):.2f} "
          f"{'ok' if p50(fast) <= P50_TARGET_US else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    main()
