"""Pack files: the law as TOML, read with ``tomllib`` and checked field by field.

A pack is a ``[pack]`` table and an array of ``[[rules]]``. Nothing in a pack is guessed:
an unknown field, channel, purpose, requirement kind or jurisdiction, a parameter that does
not fit the requirement, or a malformed period refuses the whole pack with a
``PolicyLoadError`` whose lines each name the file, the line, the field and the value.
"""

import re
import tomllib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from policy.jurisdictions import is_valid_code
from policy.requirements import REQUIREMENTS, Requirement, RequirementKind
from policy.rules import Rule
from policy.vocabulary import Channel, LegalException, Purpose

RESERVED_RULE_PREFIX = "policy."  # the engine's own reasons, e.g. "policy.error"

_Loc = tuple[str | int, ...]
_M = TypeVar("_M", bound=BaseModel)


class PolicyLoadError(Exception):
    """The packs cannot be loaded; each entry of ``problems`` is one finding."""

    code = "policy.load_error"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    title: str
    source: str
    rules: tuple[Rule, ...]


def _sentence(text: str) -> str:
    if not text.endswith((".", "!", "?")):
        raise ValueError("should be a full sentence, ending in '.'")
    return text


def _jurisdiction(code: str) -> str:
    if not is_valid_code(code, allow_groups=True):
        raise ValueError('should be an ISO 3166 code such as "ES" or "US-FL", or "EU" / "EEA"')
    return code


_RULE_ID = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+", re.ASCII)
_NAME = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)


def _rule_id(rule_id: str) -> str:
    if not _RULE_ID.fullmatch(rule_id):
        raise ValueError("should be lower-case words joined by dots, e.g. 'gdpr.art21.objection'")
    if rule_id.startswith(RESERVED_RULE_PREFIX):
        raise ValueError(f"ids starting with {RESERVED_RULE_PREFIX!r} are the engine's own")
    return rule_id


def _name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError("should be one lower-case word (a-z, 0-9, _), e.g. 'gdpr'")
    return name


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("should not be blank")
    return " ".join(text.split())


_Text = Annotated[str, AfterValidator(_text)]
_Message = Annotated[_Text, AfterValidator(_sentence)]
_Jurisdiction = Annotated[str, AfterValidator(_jurisdiction)]
_RuleId = Annotated[str, AfterValidator(_rule_id)]
_Channel = Annotated[Channel, Strict(False)]
_Purpose = Annotated[Purpose, Strict(False)]
_Exceptions = Annotated[tuple[Annotated[LegalException, Strict(False)], ...], Strict(False)]
_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class _PackHeader(BaseModel):
    model_config = _STRICT

    name: Annotated[str, AfterValidator(_name)]
    title: _Text


class _PackFile(BaseModel):
    model_config = _STRICT

    pack: _PackHeader
    rules: list[dict[str, Any]] = Field(default_factory=list)


class _RuleEntry(BaseModel):
    model_config = _STRICT

    id: _RuleId
    regime: _Text
    jurisdictions: Annotated[tuple[_Jurisdiction, ...], Strict(False), Field(min_length=1)]
    channels: Annotated[tuple[_Channel, ...], Strict(False)] = ()
    purposes: Annotated[tuple[_Purpose, ...], Strict(False), Field(min_length=1)]
    effective_from: date
    effective_until: date | None = None
    requires: Annotated[RequirementKind, Strict(False)]
    citation: _Text
    message: _Message
    params: dict[str, Any] = Field(default_factory=dict)
    # Named exceptions (12 CFR 1016.13-15) that lift the rule, or outside which it is silent.
    exempt_under: _Exceptions = ()
    only_under: _Exceptions = ()

    @field_validator("only_under")
    @classmethod
    def _not_also_exempt(
        cls, only: tuple[LegalException, ...], info: ValidationInfo
    ) -> tuple[LegalException, ...]:
        both = sorted(set(only).intersection(info.data.get("exempt_under", ())))
        if both:
            raise ValueError(f"should not name {', '.join(both)}, which exempt_under names too")
        return only

    @field_validator("effective_until")
    @classmethod
    def _after_start(cls, until: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("effective_from")
        if until is not None and start is not None and until <= start:
            raise ValueError(
                f"should be after effective_from ({start.isoformat()}); it is exclusive"
            )
        return until


class _Invalid(Exception):
    def __init__(self, errors: Sequence[tuple[_Loc, ErrorDetails]]) -> None:
        super().__init__(len(errors))
        self.errors = tuple(errors)


def read_pack(source: str, data: bytes) -> Pack:
    """Read one pack file's bytes; ``source`` names it in every message."""
    text = _decode(source, data)
    document = _parse(source, text)
    try:
        header = _validated(_PackFile, document, ())
    except _Invalid as invalid:
        raise PolicyLoadError(_describe(source, _Lines(text, 0), invalid.errors)) from None
    lines = _Lines(text, len(header.rules))
    rules: list[Rule] = []
    errors: list[tuple[_Loc, ErrorDetails]] = []
    for index, raw in enumerate(header.rules):
        try:
            rules.append(_rule(source, raw, ("rules", index), lines.of(("rules", index))))
        except _Invalid as invalid:
            errors.extend(invalid.errors)
    if errors:
        raise PolicyLoadError(_describe(source, lines, errors))
    return Pack(name=header.pack.name, title=header.pack.title, source=source, rules=tuple(rules))


def _rule(source: str, raw: dict[str, Any], at: _Loc, line: int | None) -> Rule:
    """Check the rule and, where its kind is known, its params: all problems at once."""
    errors: list[tuple[_Loc, ErrorDetails]] = []
    entry = params = None
    try:
        entry = _validated(_RuleEntry, raw, at)
    except _Invalid as invalid:
        errors.extend(invalid.errors)
    requirement = _requirement(raw.get("requires"))
    raw_params = raw.get("params", {})
    if requirement is not None and isinstance(raw_params, dict):
        try:
            params = _validated(requirement.params_model, raw_params, (*at, "params"))
        except _Invalid as invalid:
            errors.extend(invalid.errors)
    if entry is None or params is None:
        raise _Invalid(errors)
    return Rule(
        id=entry.id,
        regime=entry.regime,
        jurisdictions=_unique(entry.jurisdictions),
        channels=_unique(entry.channels),
        purposes=_unique(entry.purposes),
        effective_from=entry.effective_from,
        effective_until=entry.effective_until,
        requires=entry.requires,
        params=params,
        citation=entry.citation,
        message=entry.message,
        source=source,
        line=line,
        exempt_under=frozenset(entry.exempt_under),
        only_under=frozenset(entry.only_under),
    )


def _requirement(kind: object) -> Requirement[Any] | None:
    if not isinstance(kind, str):
        return None
    try:
        return REQUIREMENTS[RequirementKind(kind)]
    except ValueError:
        return None


def _validated(model: type[_M], data: object, at: _Loc) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _Invalid([((*at, *e["loc"]), e) for e in error.errors()]) from None


_H = TypeVar("_H", bound=Hashable)


def _unique(items: Iterable[_H]) -> tuple[_H, ...]:
    return tuple(dict.fromkeys(items))


def _decode(source: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PolicyLoadError([f"{source}:{line}: not UTF-8 text, as TOML must be"]) from None


_TOML_LINE = re.compile(r"at line (\d+)")


def _parse(source: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        where = f"{source}:{found[1]}" if found else source
        raise PolicyLoadError([f"{where}: not valid TOML: {error}"]) from None


_RULE_HEADER = re.compile(r"\s*\[\[\s*(?:rules|\"rules\"|'rules')\s*\]\]")


class _Lines:
    """Finds the line a problem is on: tomllib keeps no positions, so read the text."""

    def __init__(self, text: str, rule_count: int) -> None:
        self._lines = text.split("\n")
        headers = [n for n, line in enumerate(self._lines, 1) if _RULE_HEADER.match(line)]
        # Rules written as an inline array have no headers; then point at "rules = [".
        self._rule_headers = headers if len(headers) == rule_count else []

    def of(self, loc: _Loc) -> int | None:
        rule = loc[1] if len(loc) > 1 and loc[0] == "rules" else None
        if isinstance(rule, int) and rule < len(self._rule_headers):
            return self._rule_headers[rule]
        return self._first_mention(str(loc[0])) if loc else None

    def _first_mention(self, key: str) -> int | None:
        name = re.escape(key)
        mention = re.compile(rf"\s*(?:\[+\s*{name}\s*[\].]|{name}\s*[=.])")
        return next((n for n, line in enumerate(self._lines, 1) if mention.match(line)), None)


def _describe(source: str, lines: _Lines, errors: Iterable[tuple[_Loc, ErrorDetails]]) -> list[str]:
    described = []
    for loc, error in errors:
        line = lines.of(loc)
        where = f"{source}:{line}" if line is not None else source
        if error["type"] == "missing":
            described.append(f"{where}: {_path(loc)}: required, but missing")
        else:
            value = _show(error["input"])
            described.append(f"{where}: {_path(loc)} = {value}: {_problem(error)}")
    return described


def _path(loc: _Loc) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(file)"


_PLAIN_WORDS = {
    "extra_forbidden": "not a field of the pack format",
    "tuple_type": "should be an array",
    "list_type": "should be an array",
    "dict_type": "should be a table",
    "model_type": "should be a table",
    "date_type": "should be a TOML date such as 2018-05-25 (no quotes, no time)",
    "bool_type": "should be true or false",
    "string_type": "should be a quoted string",
}


def _problem(error: ErrorDetails) -> str:
    if error["type"] in _PLAIN_WORDS:
        return _PLAIN_WORDS[error["type"]]
    if error["type"] == "too_short":
        return "should not be empty"
    message = error["msg"].removeprefix("Value error, ").removeprefix("Input ")
    return message


_LONGEST_VALUE = 60


def _show(value: object) -> str:
    shown = value.isoformat() if isinstance(value, date) else repr(value)
    if len(shown) > _LONGEST_VALUE:
        return shown[: _LONGEST_VALUE - 3] + "..."
    return shown
