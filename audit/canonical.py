"""Canonical bytes of a JSON value, so that the same entry always hashes the same.

The encoding is RFC 8785 (JCS) for the values we allow: objects with string keys, arrays,
strings, integers, booleans and null. Floats are refused, because their JCS form needs the
ECMAScript number printer and an auditor re-deriving a hash should not depend on one.
"""

import json
from typing import Any


class NotCanonicalError(ValueError):
    """A value that has no canonical form here (a float, or a non-string key)."""


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return
    if isinstance(value, float):
        raise NotCanonicalError(f"{path}: floats have no canonical form here")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalError(f"{path}: keys must be strings")
            _check(item, f"{path}.{key}")
        return
    raise NotCanonicalError(f"{path}: {type(value).__name__} is not JSON")


def canonical_bytes(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no insignificant whitespace (RFC 8785 subset)."""
    _check(value, "$")
    # Keys are sorted by code point; for the ASCII keys we write this equals JCS's UTF-16 order.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
