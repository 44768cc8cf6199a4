"""RFC 9162 leaf hashing: the one hash every audit entry carries."""

import hashlib

LEAF_PREFIX = b"\x00"  # RFC 9162 s2.1.1: leaves are hashed with 0x00, interior nodes with 0x01


def leaf_hash(entry_bytes: bytes) -> bytes:
    """SHA-256(0x00 || canonical bytes of the entry)."""
    return hashlib.sha256(LEAF_PREFIX + entry_bytes).digest()
