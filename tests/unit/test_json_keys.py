"""Keys given twice in a JSON object (consent/json_keys.py): found wherever they are, and the
counting shortcut for flat bodies never clears a body that has one."""

import json
import random

import pytest

from consent.json_keys import repeated_keys


def test_a_key_given_twice_is_named() -> None:
    assert repeated_keys(b'{"status": "granted", "status": "withdrawn"}') == [("status",)]
    assert repeated_keys('{"status": "granted", "purpose": "marketing"}') == []


def test_keys_given_twice_within_objects_and_lists_are_named_by_path() -> None:
    raw = (
        '{"relationship": {"last_purchase_at": "2026-01-01T00:00:00Z",'
        ' "last_purchase_at": "2020-01-01T00:00:00Z"},'
        ' "limits": [{"count": 1}, {"count": 2, "period": "P1D", "count": 3}],'
        ' "source": "a", "source": "b", "source": "c"}'
    )
    assert json.loads(raw).keys() == {"relationship", "limits", "source"}
    assert repeated_keys(raw) == [
        ("source",),
        ("relationship", "last_purchase_at"),
        ("limits", 1, "count"),
    ]


def test_an_escaped_name_is_the_same_key() -> None:
    assert repeated_keys(b'{"status": 1, "st\\u0061tus": 2}', distinct=1) == [("status",)]


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"[1, 2", b'{"a": 1,}'])
def test_a_document_that_is_no_json_is_left_to_its_parser(raw: bytes) -> None:
    assert repeated_keys(raw) == []
    assert repeated_keys(raw, distinct=1) == []


def test_nesting_beyond_the_parser_is_left_to_it() -> None:
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b', "a": 1, "\\u0062": 2}'
    assert repeated_keys(deep, distinct=2) == []


_KEYS = ("channel", "purpose", "source", "campaign_id", "dry_run")
_VALUES = ('"phone"', '"a\\":b"', '"x:y"', '"back\\\\slash"', "true", "null", "12", '"é"')
_SPACES = ("", " ", "\n", "\t ")


def _flat_body(rng: random.Random) -> tuple[str, list[str]]:
    keys = [rng.choice(_KEYS) for _ in range(rng.randint(1, 6))]
    members = [
        f'"{key}"{rng.choice(_SPACES)}:{rng.choice(_SPACES)}{rng.choice(_VALUES)}' for key in keys
    ]
    return "{" + ",".join(members) + "}", keys


def test_the_counting_shortcut_agrees_with_a_full_parse_on_random_flat_bodies() -> None:
    """Whitespace before a colon, values holding '":' behind an escape, backslashes: the
    shortcut (given the parsed body's distinct keys, as a route has them) finds exactly the
    keys a full parse finds, and those are the keys the body was written with twice."""
    rng = random.Random(20261207)
    twice_seen = 0
    for _ in range(3_000):
        text, keys = _flat_body(rng)
        expected = sorted({(key,) for key in keys if keys.count(key) > 1})
        distinct = len(json.loads(text))
        for document in (text, text.encode()):
            assert sorted(repeated_keys(document, distinct=distinct)) == expected, text
            assert sorted(repeated_keys(document)) == expected, text
        twice_seen += bool(expected)
    assert 500 < twice_seen < 2_500  # both kinds of body were drawn often
