"""Envelope encryption and keyed look-up hashes."""

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap

from consent.crypto import KeyRing


def test_sealed_value_opens_only_with_its_associated_data() -> None:
    ring = KeyRing(b"m" * 32)
    key, wrapped = ring.new_data_key()
    sealed = key.encrypt(b"ana@example.com", b"C1/email")
    assert b"ana@example.com" not in sealed
    assert ring.unwrap(wrapped).decrypt(sealed, b"C1/email") == b"ana@example.com"
    with pytest.raises(InvalidTag):
        ring.unwrap(wrapped).decrypt(sealed, b"C2/email")


def test_another_master_key_cannot_unwrap() -> None:
    _, wrapped = KeyRing(b"m" * 32).new_data_key()
    with pytest.raises(InvalidUnwrap):
        KeyRing(b"n" * 32).unwrap(wrapped)


def test_lookup_hash_is_keyed_and_separates_kinds() -> None:
    ring = KeyRing(b"m" * 32)
    assert ring.lookup_hash("email", "a@b.es") == ring.lookup_hash("email", "a@b.es")
    assert ring.lookup_hash("email", "a@b.es") != KeyRing(b"n" * 32).lookup_hash("email", "a@b.es")
    assert ring.lookup_hash("email", "x") != ring.lookup_hash("post", "x")


def test_short_master_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyRing(b"short")


def test_keyring_repr_reveals_nothing() -> None:
    assert "m" * 8 not in repr(KeyRing(b"m" * 32))
