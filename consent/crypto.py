"""Contact details at rest: envelope encryption and keyed look-up hashes.

Each customer has a random data key that encrypts their contact details (AES-256-GCM); the
data key is stored wrapped (RFC 3394 AES key wrap) under a key derived from the master key.
Erasing a customer destroys the wrapped key: their ciphertexts, in the tables and in the
audit log, become unreadable while everything else stays verifiable (crypto-shredding).
Look-ups use HMAC-SHA256 under a second derived key, so equal identifiers can be matched
without being stored in clear (GLBA Safeguards, 16 CFR 314.4(c)(3)).
"""

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

_NONCE_BYTES = 12  # the size AES-GCM is specified for (NIST SP 800-38D)


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)


class DataKey:
    """One customer's key. Associated data binds a ciphertext to where it belongs."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, sealed: bytes, associated_data: bytes) -> bytes:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        return self._aead.decrypt(nonce, ciphertext, associated_data)


class KeyRing:
    """Holds the keys derived from the master key; never logs or exposes them."""

    __slots__ = ("_lookup_key", "_request_key", "_wrap_key")

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 32:
            raise ValueError("the master key must be at least 32 bytes")
        self._wrap_key = _derive(master_key, b"consent-gate/v1/wrap")
        self._lookup_key = _derive(master_key, b"consent-gate/v1/lookup")
        self._request_key = hmac.new(
            _derive(master_key, b"consent-gate/v1/request"), digestmod=hashlib.sha256
        )

    def __repr__(self) -> str:
        return "KeyRing(<redacted>)"

    def new_data_key(self) -> tuple[DataKey, bytes]:
        """A fresh data key and its wrapped form, which is what gets stored."""
        key = AESGCM.generate_key(bit_length=256)
        return DataKey(key), aes_key_wrap(self._wrap_key, key)

    def unwrap(self, wrapped: bytes) -> DataKey:
        return DataKey(aes_key_unwrap(self._wrap_key, wrapped))

    def request_seal(self, value: str) -> str:
        """A keyed digest (HMAC-SHA256, hex) of a value a stored request hash must not reveal."""
        mac = self._request_key.copy()  # keyed once: a copy skips hashing the key each time
        mac.update(value.encode())
        return mac.hexdigest()

    def lookup_hash(self, kind: str, normalised: str) -> bytes:
        """HMAC-SHA256 of a normalised identifier, domain-separated by its kind."""
        message = kind.encode() + b"\x00" + normalised.encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).digest()
