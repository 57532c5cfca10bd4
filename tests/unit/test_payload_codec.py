"""The payload encryption codec: round trips, key rotation, clear refusals."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from agents.codec import ENCODING, KEY_ID, EncryptionCodec, PayloadKeyError, codec_from_settings
from planner.settings import Settings

pytestmark = pytest.mark.unit

K1, K2 = b"\x01" * 32, b"\x02" * 32


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_encrypted_payloads_hide_the_data_and_name_their_key() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    [sealed] = await codec.encode([payload('{"api_key": "sk-secret"}')])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert b"sk-secret" not in sealed.SerializeToString()
    [opened] = await codec.decode([sealed])
    assert opened == payload('{"api_key": "sk-secret"}')
    again = await codec.encode([payload("x")])
    assert again[0].data != (await codec.encode([payload("x")]))[0].data  # fresh nonce


async def test_rotation_keeps_old_payloads_readable() -> None:
    old = EncryptionCodec({"k1": K1}, "k1")
    [sealed_old] = await old.encode([payload("old")])
    rotated = EncryptionCodec({"k1": K1, "k2": K2}, "k2")
    [sealed_new] = await rotated.encode([payload("new")])
    assert sealed_new.metadata[KEY_ID] == b"k2"
    assert [p.data for p in await rotated.decode([sealed_old, sealed_new])] == [b"old", b"new"]
    assert (await rotated.decode([payload("clear")]))[0].data == b"clear"  # pre-encryption
    with pytest.raises(PayloadKeyError, match=r"key 'k2'.*JARVIS_PAYLOAD_KEYS"):
        await old.decode([sealed_new])


async def test_tampered_payloads_are_refused() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    [sealed] = await codec.encode([payload("x")])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        await codec.decode([sealed])


def test_settings_turn_it_on_and_check_the_keys() -> None:
    assert codec_from_settings(Settings()) is None
    on = Settings(payload_keys={"a": "01" * 32}, payload_key_id="a")
    assert isinstance(codec_from_settings(on), EncryptionCodec)
    with pytest.raises(PayloadKeyError, match="not among the keys"):
        codec_from_settings(Settings(payload_keys={"a": "01" * 32}, payload_key_id="b"))
    with pytest.raises(PayloadKeyError, match="32 bytes"):
        codec_from_settings(Settings(payload_keys={"a": "01" * 8}, payload_key_id="a"))
