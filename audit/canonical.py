"""Canonical bytes of a JSON value, so that the same entry always hashes the same.

The encoding is RFC 8785 (JCS) for the values we allow: objects with string keys, arrays,
strings, integers, booleans and null. Floats are refused, because their JCS form needs the
ECMAScript number printer and an auditor re-deriving a hash should not depend on one.
"""

import json
from typing import Any

import orjson


class NotCanonicalError(ValueError):
    """A value that has no canonical form here (a float, or a non-string key)."""


_SCALARS = (str, int, bool, type(None))
# The types whose values are plain: the exact scalars, and the subclasses of str or int met
# so far (the StrEnums of every decision's payload, a dozen values a check), each judged
# once. One set look-up a value, in the container's own loop: a helper called for every
# value, before, made the walk a third slower (timeit on a check's audit document: 3.9
# against 2.7 us).
_PLAIN_TYPES: set[type] = set(_SCALARS)


def _is_plain(value: Any) -> bool:
    """True for JSON without floats or non-string keys; the hot path (every decision's
    payload comes here), so no paths are built and only containers cost a call."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return True
    if isinstance(value, dict):
        return _is_plain_mapping(value)
    if isinstance(value, list | tuple):
        return all(type(item) in _PLAIN_TYPES or _is_plain(item) for item in value)
    # Subclasses (a StrEnum is a str) are plain too; a float never is.
    if isinstance(value, _SCALARS) and not isinstance(value, float):
        _PLAIN_TYPES.add(kind)
        return True
    return False


def _is_plain_mapping(value: dict[Any, Any]) -> bool:
    plain = _PLAIN_TYPES
    for key, item in value.items():
        if type(key) is not str and not isinstance(key, str):
            return False
        if type(item) not in plain and not _is_plain(item):
            return False
    return True


def _problem(value: Any, path: str) -> str | None:
    """Where the first non-canonical value is, for the error message."""
    if isinstance(value, float):
        return f"{path}: floats have no canonical form here"
    if isinstance(value, _SCALARS):
        return None
    if isinstance(value, list | tuple):
        children = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    elif isinstance(value, dict):
        if any(not isinstance(key, str) for key in value):
            return f"{path}: keys must be strings"
        children = [(f"{path}.{key}", item) for key, item in value.items()]
    else:
        return f"{path}: {type(value).__name__} is not JSON"
    return next((p for child, item in children if (p := _problem(item, child))), None)


def canonical_bytes(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no insignificant whitespace (RFC 8785 subset)."""
    if not _is_plain(value):
        raise NotCanonicalError(_problem(value, "$") or "$: not JSON")
    # Keys are sorted by code point; for the ASCII keys we write this equals JCS's UTF-16 order.
    # orjson writes the same bytes as json.dumps below (a test compares every code point) in
    # a tenth of the time; what it refuses (an integer past 64 bits, a lone surrogate) goes
    # to json.dumps, which writes the big integer and raises on the surrogate as before.
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return _json_canonical(value)


def _json_canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
