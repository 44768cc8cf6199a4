"""Keys that a JSON object gives more than once.

RFC 8259 section 4: the names within an object SHOULD be unique, and where they are not,
parsers differ (most keep the last value, some the first). A consent or a check that
names its ``status`` or ``channel`` twice, or a suppression-list line with two phone
numbers, says two things: it is refused, not read one way.
"""

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

KeyPath = tuple[str | int, ...]

# In a document without backslashes every '"' delimits a string, and a string followed by
# ':' is a key (JSON's whitespace may stand between).
_KEY_END = re.compile(r'"[ \t\n\r]*:')
_KEY_END_BYTES = re.compile(rb'"[ \t\n\r]*:')


def repeated_keys(document: str | bytes, distinct: int | None = None) -> list[KeyPath]:
    """The path of every key that an object in this JSON document gives more than once;
    [] for none, and for a document that is no JSON (its parser reports that).

    ``distinct``: how many different keys the document's objects hold in all, where the
    caller knows it from its own parse (a flat object's fields). A document without escapes
    holding no more keys than that has none twice: cleared by counting, not parsing again.
    """
    if distinct is not None and _key_count(document) == distinct:
        return []
    try:
        parsed = json.loads(document, object_pairs_hook=_Object.of)
        return list(_repeated(parsed, ()))
    except (ValueError, RecursionError):  # no JSON, or nested beyond any body we accept
        return []


def _key_count(document: str | bytes) -> int | None:
    if isinstance(document, bytes):
        return None if b"\\" in document else len(_KEY_END_BYTES.findall(document))
    return None if "\\" in document else len(_KEY_END.findall(document))


class _Object(dict[str, Any]):
    """A parsed object that remembers which of its keys it was given more than once."""

    __slots__ = ("repeated",)
    repeated: list[str]

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> "_Object":
        parsed = cls(pairs)
        parsed.repeated = []
        if len(parsed) != len(pairs):
            parsed.repeated = [key for key, n in Counter(key for key, _ in pairs).items() if n > 1]
        return parsed


def _repeated(node: Any, at: KeyPath) -> Iterator[KeyPath]:
    if isinstance(node, _Object):
        for key in node.repeated:
            yield (*at, key)
        for key, value in node.items():
            yield from _repeated(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _repeated(value, (*at, index))
