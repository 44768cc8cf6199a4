"""A JSON object sent in pieces is the same bytes as the object encoded whole."""

from collections.abc import Iterator

import orjson
import pytest

from api.json_stream import object_with_array

CASES = [
    ({"a": 1, "b": "é"}, [{"x": 1}, {"y": [2, 3]}], {"z": None}),
    ({}, [], {}),
    ({"a": 1}, [], {}),
    ({}, [1, "two", {"three": 3}], {"end": True}),
]


@pytest.mark.parametrize(("head", "items", "tail"), CASES)
def test_the_pieces_join_into_the_whole_object(head: dict, items: list, tail: dict) -> None:
    sent = b"".join(object_with_array(head, "checks", iter(items), tail))
    assert sent == orjson.dumps({**head, "checks": items, **tail})
    assert list(orjson.loads(sent)) == [*head, "checks", *tail]  # the keys in that order


def test_items_are_read_only_as_the_pieces_are_taken() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for n in range(3):
            taken.append(n)
            yield n

    pieces = object_with_array({"a": 1}, "checks", items(), {})
    next(pieces)
    assert taken == []
    next(pieces)
    assert taken == [0]
