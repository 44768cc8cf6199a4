"""How the gate's values are bound on SQLite: straight from the adapter registry.

``sqlite3`` binds exact ``int``, ``float``, ``str`` and ``bytearray`` as they are. Any other
value (``None``, ``bytes``, ``bool``, a ``StrEnum`` member) is first looked up in the adapter
registry; on a miss, sqlite3 asks ``PrepareProtocol.__adapt__`` and then the value's
``__conform__``, and on Python 3.11 the first miss formats an ``AttributeError`` message
each time. A check binds some twenty such values (hashes, flags, channel, purpose, ...):
~2 % of the gate's instructions (callgrind) went to those messages. A registered adapter
is one dictionary hit, and binds the same thing: ``None`` as NULL, the bytes as a blob, a
flag as 0 or 1, a member as its text.
"""

import sqlite3
from enum import StrEnum
from functools import cache

from policy import vocabulary


@cache  # the registry is the process's: once is enough
def register_adapters() -> None:
    sqlite3.register_adapter(type(None), _null)
    sqlite3.register_adapter(bytes, bytes)  # bytes(b) is b itself
    sqlite3.register_adapter(bool, int)
    for member_type in _str_enums():
        sqlite3.register_adapter(member_type, str)


def _null(value: None) -> None:
    return value


def _str_enums() -> list[type[StrEnum]]:
    return [
        value
        for value in vars(vocabulary).values()
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
    ]
