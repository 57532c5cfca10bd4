"""Where things are, for tests in any layer."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DATA = TESTS / "data"
HISTORIES = TESTS / "histories"
ARTIFACTS = ROOT / "test-artifacts"
