"""The web app's admin token, users file and `jarvis users` (no server)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jarvis_planner.cli.users import app as users_app
from jarvis_planner.web.tokens import (
    TokenError,
    UserStore,
    admin_token,
    digest,
)
from planner.settings import Settings


def test_the_admin_token_is_made_once_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = admin_token(settings)
    assert first.created and first.path == tmp_path / "data" / "web-token"
    assert first.path.stat().st_mode & 0o777 == 0o600
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first.token)  # 32 random bytes, URL-safe
    again = admin_token(settings)
    assert (again.token, again.created) == (first.token, False)

    from_env = admin_token(Settings(data_dir=tmp_path / "other", web_token="  s3cret-" * 3))
    assert from_env.path is None and not from_env.created and from_env.token.startswith("s3c")
    assert not (tmp_path / "other" / "web-token").exists()
    with pytest.raises(TokenError, match="at least 16"):
        admin_token(Settings(data_dir=tmp_path, web_token="short"))


def test_users_keep_digests_only_and_are_seen_without_a_restart(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "web-users.json")
    reader = UserStore(tmp_path / "web-users.json")  # the running app's copy
    assert reader.find("anything") is None
    alice = store.add("alice")
    bob = store.add("bob", admin=True)
    raw = (tmp_path / "web-users.json").read_text()
    assert alice not in raw and bob not in raw and digest(alice) in raw
    assert (tmp_path / "web-users.json").stat().st_mode & 0o777 == 0o600
    found = reader.find(alice)
    assert found is not None and (found.name, found.admin) == ("alice", False)
    found = reader.find(bob)
    assert found is not None and found.admin
    assert reader.find(alice + "x") is None
    with pytest.raises(TokenError, match="exists"):
        store.add("alice")
    for bad in ("admin", "Alice", "a b", "", "x" * 41, "-lead"):
        with pytest.raises(TokenError):
            store.add(bad)
    store.remove("alice")
    assert reader.find(alice) is None and reader.get("alice") is None
    with pytest.raises(TokenError, match="no user"):
        store.remove("alice")
    (tmp_path / "web-users.json").write_text(json.dumps({"eve": {"sha256": "nothex"}}))
    with pytest.raises(TokenError, match="sha256"):
        reader.users()


def test_jarvis_users_add_list_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    added = runner.invoke(users_app, ["add", "alice", "--admin"])
    assert added.exit_code == 0, added.output
    token = next(line for line in added.output.splitlines()
                 if re.fullmatch(r"[A-Za-z0-9_-]{43}", line.strip())).strip()
    user = UserStore.of(Settings(data_dir=tmp_path)).find(token)
    assert user is not None and user.name == "alice" and user.admin
    assert "alice  (admin)" in runner.invoke(users_app, ["list"]).output
    assert token not in runner.invoke(users_app, ["list"]).output
    assert runner.invoke(users_app, ["remove", "alice"]).exit_code == 0
    assert "no users besides admin" in runner.invoke(users_app, ["list"]).output
