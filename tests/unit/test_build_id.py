"""The build id a worker reports by default: derived from the installed code."""

from __future__ import annotations

import re
from pathlib import Path

from agents.versioning import build_id, code_build_id, code_digest, worker_version
from planner.settings import Settings


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_digest_follows_every_file_name_and_content_but_not_bytecode(tmp_path: Path) -> None:
    files = {"pkg/a.py": "x = 1\n", "pkg/sub/b.md": "prompt\n", "other/c.py": "y = 2\n"}
    first = code_digest(tree(tmp_path / "one", files), ["pkg", "other"])
    assert first == code_digest(tree(tmp_path / "two", files), ["pkg", "other"])
    (tmp_path / "two" / "pkg" / "__pycache__").mkdir()
    (tmp_path / "two" / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert code_digest(tmp_path / "two", ["pkg", "other"]) == first
    changed = {**files, "pkg/sub/b.md": "prompt v2\n"}
    assert code_digest(tree(tmp_path / "three", changed), ["pkg", "other"]) != first
    moved = {"pkg/a2.py": "x = 1\n", "pkg/sub/b.md": "prompt\n", "other/c.py": "y = 2\n"}
    assert code_digest(tree(tmp_path / "four", moved), ["pkg", "other"]) != first
    assert code_digest(tmp_path / "one", ["pkg"]) != first  # only the packages named


def test_the_default_build_id_is_the_package_version_and_a_digest(tmp_path: Path) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*-[0-9a-f]{10}", code_build_id())
    settings = Settings(data_dir=tmp_path)
    assert build_id(settings) == code_build_id()
    assert worker_version(settings).to_canonical_string() == f"jarvis.{code_build_id()}"
    pinned = settings.model_copy(update={"build_id": "2026-12-03", "deployment_name": "ops"})
    assert worker_version(pinned).to_canonical_string() == "ops.2026-12-03"
