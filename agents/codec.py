"""Encrypting workflow payloads at rest: a Temporal payload codec (AES-256-GCM).

Every payload the client and the workers send to the server (goal and plan inputs, activity
arguments and results, update arguments, query answers) is encrypted with the current key, so
the server's database, its UI and ``temporal workflow show`` see ciphertext only. Each payload
names its key (metadata ``encryption-key-id``), so keys rotate without re-encrypting history:
add the new key, make it current, keep the old ones until no open history needs them.

    JARVIS_PAYLOAD_KEYS='{"2026-12": "<64 hex digits>"}'  JARVIS_PAYLOAD_KEY_ID=2026-12

Payloads written before encryption was turned on stay readable (they are not marked encrypted).
Clients and workers must share the keys. Off unless ``payload_key_id`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from planner.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyError(ValueError):
    """A payload key is missing or malformed."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise PayloadKeyError(f"the current payload key '{current}' is not among the keys "
                                  f"({', '.join(sorted(keys)) or 'none'})")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise PayloadKeyError(f"payload key '{key_id}' must be 32 bytes (64 hex "
                                      f"digits); it has {len(key)}")
        self._ciphers = {k: AESGCM(v) for k, v in keys.items()}
        self.current = current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self.current]
        out = []
        for p in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, p.SerializeToString(), self.current.encode())
            out.append(Payload(metadata={"encoding": ENCODING,
                                         KEY_ID: self.current.encode()},
                               data=nonce + sealed))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)  # written before encryption was on
                continue
            key_id = p.metadata.get(KEY_ID, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise PayloadKeyError(f"a payload is encrypted with key '{key_id}', which this "
                                      "process does not have: add it to JARVIS_PAYLOAD_KEYS")
            clear = cipher.decrypt(p.data[:NONCE_BYTES], p.data[NONCE_BYTES:], key_id.encode())
            decoded = Payload()
            decoded.ParseFromString(clear)
            out.append(decoded)
        return out


def codec_from_settings(settings: Settings) -> EncryptionCodec | None:
    if not settings.payload_key_id:
        return None
    keys = {}
    for key_id, text in settings.payload_keys.items():
        try:
            keys[key_id] = bytes.fromhex(text)
        except ValueError as exc:
            raise PayloadKeyError(f"payload key '{key_id}' is not hex") from exc
    return EncryptionCodec(keys, settings.payload_key_id)
