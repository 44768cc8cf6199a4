"""``fast_init`` builds the same frozen values as the dataclass's own ``__init__``."""

import dataclasses
import inspect
from dataclasses import FrozenInstanceError, InitVar, dataclass, field

import pytest

from consent.answers import CheckAnswer
from consent.decide import ContactRequest
from consent.gate import CheckCommand, CheckResult
from consent.preferences import ChannelPreference, QuietHours
from consent.state import CustomerState
from consent.store.gate_sql import CheckRow
from consent.store.steps import Begin, LoadHistory, Record
from policy.facts import ConsentFact, Facts, Relationship, RevocationFact
from policy.fast_init import fast_init
from policy.reasons import Reason


def _sample(*, fast: bool) -> type:
    @dataclass(frozen=True, slots=True)
    class Sample:
        name: str
        count: int = 3
        tags: list[str] = field(default_factory=list)
        note: str | None = field(default=None, kw_only=True)

    return fast_init(Sample) if fast else Sample


def test_same_signature_as_the_dataclass_init() -> None:
    assert inspect.signature(_sample(fast=True)) == inspect.signature(_sample(fast=False))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("a",), {}), (("a", 5), {}), (("a",), {"tags": ["x"], "note": "n"}), ((), {"name": "b"})],
)
def test_same_values_as_the_dataclass_init(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    fast, plain = _sample(fast=True)(*args, **kwargs), _sample(fast=False)(*args, **kwargs)
    assert dataclasses.asdict(fast) == dataclasses.asdict(plain)


def test_a_default_factory_runs_for_each_instance() -> None:
    sample = _sample(fast=True)
    first, second = sample("a"), sample("b")
    assert first.tags == []
    assert first.tags is not second.tags


def test_the_same_argument_errors_as_the_dataclass_init() -> None:
    sample = _sample(fast=True)
    with pytest.raises(TypeError):
        sample()  # name is required
    with pytest.raises(TypeError):
        sample("a", 1, [], "note")  # note is keyword-only


def test_still_frozen_and_replace_still_works() -> None:
    value = _sample(fast=True)("a")
    with pytest.raises(FrozenInstanceError):
        value.count = 4
    assert dataclasses.replace(value, count=9).count == 9


def test_post_init_still_runs() -> None:
    @fast_init
    @dataclass(frozen=True, slots=True)
    class Checked:
        amount: int

        def __post_init__(self) -> None:
            if self.amount < 0:
                raise ValueError("negative")

    with pytest.raises(ValueError, match="negative"):
        Checked(-1)


def test_refuses_a_class_without_slots() -> None:
    with pytest.raises(TypeError, match="slots"):

        @fast_init
        @dataclass(frozen=True)
        class Unslotted:
            name: str


def test_refuses_an_init_var() -> None:
    with pytest.raises(TypeError, match="InitVar"):

        @fast_init
        @dataclass(frozen=True, slots=True)
        class WithInitVar:
            name: str
            secret: InitVar[str]


def test_refuses_a_field_left_out_of_init() -> None:
    with pytest.raises(TypeError, match="init=False"):

        @fast_init
        @dataclass(frozen=True, slots=True)
        class Derived:
            name: str
            length: int = field(init=False, default=0)


@pytest.mark.parametrize(
    "cls",
    [CheckCommand, CheckResult, Begin, LoadHistory, Record, ContactRequest, Facts, CheckAnswer,
     CheckRow, Reason,
     # what decoding a customer's state builds
     CustomerState, ChannelPreference, QuietHours, ConsentFact, Relationship, RevocationFact],
)  # fmt: skip
def test_the_gate_classes_keep_their_dataclass_signature(cls: type) -> None:
    # Rebuilt from the same fields by dataclasses itself: the parameters a caller sees.
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    reference = dataclasses.make_dataclass(cls.__name__, fields, frozen=True, slots=True)
    assert _parameters(cls) == _parameters(reference)


def _parameters(cls: type) -> list[tuple[str, object, bool]]:
    return [
        (p.name, p.kind, p.default is inspect.Parameter.empty)
        for p in inspect.signature(cls).parameters.values()
    ]
