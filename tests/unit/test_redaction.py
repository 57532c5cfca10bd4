"""Secrets never reach the logs the worker and the web server write."""

from __future__ import annotations

import io
import logging

import pytest

from planner.redaction import MASK, RedactingFilter, known_secrets, redact
from planner.settings import Settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("line", [
    "Authorization: Bearer abcdefghijklmnop",
    "calling with key sk-proj-ABCDEFGHIJKLMNOPQRST",
    'settings {"api_key": "hunter2hunter2"}',
    "password=swordfish-42",
])
def test_credential_shapes_are_masked(line: str) -> None:
    out = redact(line)
    assert MASK in out
    for secret in ("abcdefghijklmnop", "sk-proj-ABCDEFGHIJKLMNOPQRST", "hunter2hunter2",
                   "swordfish-42"):
        assert secret not in out


def test_known_secrets_are_masked_in_messages_arguments_and_tracebacks() -> None:
    settings = Settings(llm_api_key="plain-looking-value-123", web_token="tok-9f8e7d6c5b",
                        payload_keys={"k": "ab" * 32}, payload_key_id="k")
    assert "plain-looking-value-123" in known_secrets(settings)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(known_secrets(settings)))
    log = logging.getLogger("test-redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("llm key %s, token %s", "plain-looking-value-123", "tok-9f8e7d6c5b")
        try:
            raise RuntimeError("failed with " + "ab" * 32)
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "plain-looking-value-123" not in text and "tok-9f8e7d6c5b" not in text
    assert "ab" * 32 not in text and text.count(MASK) >= 3 and "RuntimeError" in text
