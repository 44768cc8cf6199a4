"""A JSON object sent in pieces: one array in it is written item by item as it is read."""

from collections.abc import Iterable, Iterator
from typing import Any

import orjson


def object_with_array(
    head: dict[str, Any], key: str, items: Iterable[Any], tail: dict[str, Any]
) -> Iterator[bytes]:
    """The bytes of ``{**head, key: list(items), **tail}``, without building the list: the
    keys in that order, each item encoded as it comes."""
    opening = orjson.dumps(head)[:-1]  # without its "}"
    yield opening + (b"," if head else b"") + orjson.dumps(key) + b":["
    for n, item in enumerate(items):
        yield (b"," if n else b"") + orjson.dumps(item)
    closing = orjson.dumps(tail)[1:]  # without its "{"
    yield b"]" + (b"," if tail else b"") + closing
