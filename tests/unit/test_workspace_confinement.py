"""The files tools stay inside the workspace, whatever is planted in it: one test per attack.

Every call goes through ``execute_call`` (as both engines run tools), so a refusal is checked
with its retry posture. Each test fails when the protection it names is taken out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from activities import default_registry
from activities.builtins import files
from activities.errors import ToolInputError
from activities.execution import StepFailure, ToolRuntime, execute_call, tool_runtime
from activities.workspace import Location, open_file
from planner.contracts.plan_run import ToolCall
from planner.settings import Settings

pytestmark = [pytest.mark.unit, pytest.mark.timeout(30)]

SECRET = "top secret"


@pytest.fixture
def runtime(tmp_path: Path) -> ToolRuntime:
    data = tmp_path / "data"
    return tool_runtime(Settings(data_dir=data, workspace=data / "workspace", webhook_url=None),
                        default_registry(plugins=False))


@pytest.fixture
def workspace(runtime: ToolRuntime) -> Path:
    return Path(runtime.context.workspace)


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A folder beside the workspace with one secret file; checked untouched afterwards."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    yield folder
    assert (folder / "secret.txt").read_text() == SECRET
    assert sorted(p.name for p in folder.iterdir()) == ["secret.txt"]


async def run(runtime: ToolRuntime, tool: str, args: dict[str, Any]) -> Any:
    return (await execute_call(runtime, ToolCall(step_id="s", tool=tool, args=args), 1)).output


async def refused(runtime: ToolRuntime, tool: str, args: dict[str, Any], *words: str
                  ) -> StepFailure:
    """The call fails for good (no retry), with a message holding ``words``."""
    with pytest.raises(StepFailure) as info:
        await run(runtime, tool, args)
    failure = info.value
    assert failure.type == "ToolInputError", failure
    assert failure.retryable is False, failure
    for word in words:
        assert word in str(failure), (word, str(failure))
    return failure


Action = tuple[str, dict[str, Any]]
READ: Action = ("read_file", {})
WRITE: Action = ("write_file", {"text": "pwned"})
APPEND: Action = ("write_file", {"text": "pwned", "mode": "append"})


def with_path(action: Action, path: str) -> Action:
    return action[0], {**action[1], "path": path}


# --- a symbolic link planted where the write puts its temporary file -------------------------


async def test_link_planted_at_the_temporary_name_is_not_followed(
        runtime: ToolRuntime, workspace: Path, outside: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (workspace / ".jarvis-planted.tmp").symlink_to(outside / "secret.txt")
    (workspace / ".jarvis-dangling.tmp").symlink_to(outside / "new.txt")
    names = iter([".jarvis-planted.tmp", ".jarvis-dangling.tmp", ".jarvis-fresh.tmp"])
    monkeypatch.setattr(files, "temp_name", lambda: next(names))
    await run(runtime, "write_file", {"path": "report.txt", "text": "mine"})
    assert (workspace / "report.txt").read_text() == "mine"
    assert (workspace / ".jarvis-planted.tmp").is_symlink()  # left alone, not written through


async def test_only_planted_temporary_names_refuse_the_write(
        runtime: ToolRuntime, workspace: Path, outside: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (workspace / ".jarvis-planted.tmp").symlink_to(outside / "secret.txt")
    monkeypatch.setattr(files, "temp_name", lambda: ".jarvis-planted.tmp")
    with pytest.raises(StepFailure) as info:
        await run(runtime, "write_file", {"path": "report.txt", "text": "pwned"})
    assert "temporary file" in str(info.value)
    assert not (workspace / "report.txt").exists()


# --- symbolic links on the way and at the end ------------------------------------------------


@pytest.mark.parametrize("action", [READ, WRITE, APPEND], ids=["read", "write", "append"])
async def test_link_as_a_folder_on_the_way_is_refused(runtime: ToolRuntime, workspace: Path,
                                                      outside: Path,
                                                      action: Action) -> None:
    (workspace / "sub").mkdir()
    (workspace / "sub" / "out").symlink_to(outside, target_is_directory=True)
    await refused(runtime, *with_path(action, "sub/out/secret.txt"), "escapes the workspace",
                  "symbolic link")
    await refused(runtime, *with_path(action, "sub/out/deeper/new.txt"),
                  "escapes the workspace")


@pytest.mark.parametrize("action", [READ, WRITE, APPEND], ids=["read", "write", "append"])
async def test_link_as_the_last_name_is_refused(runtime: ToolRuntime, workspace: Path,
                                                outside: Path,
                                                action: Action) -> None:
    (workspace / "secret.txt").symlink_to(outside / "secret.txt")
    (workspace / "relative.txt").symlink_to("../../outside/secret.txt")
    (workspace / "dangling.txt").symlink_to(outside / "new.txt")
    for name in ("secret.txt", "relative.txt", "dangling.txt"):
        await refused(runtime, *with_path(action, name), "escapes the workspace", name)


async def test_final_open_does_not_follow_a_link_swapped_in_after_the_check(
        workspace: Path, outside: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link that appears between the walk and the open: O_NOFOLLOW refuses it (ELOOP)."""
    (workspace / "swapped.txt").symlink_to(outside / "secret.txt")
    lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *, dir_fd=None: (
        os.stat(p, dir_fd=dir_fd) if p == "swapped.txt" else lstat(p, dir_fd=dir_fd)))
    fd = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY)
    try:
        loc = Location(fd, "swapped.txt", "swapped.txt", workspace, ())
        for flags in (os.O_RDONLY, os.O_RDWR | os.O_APPEND | os.O_CREAT):
            with pytest.raises(ToolInputError, match="ELOOP"):
                os.close(open_file(loc, flags))
    finally:
        os.close(fd)


async def test_link_loops_are_refused(runtime: ToolRuntime, workspace: Path) -> None:
    (workspace / "a").symlink_to("b")
    (workspace / "b").symlink_to("a")
    await refused(runtime, "read_file", {"path": "a"}, "symbolic links", "ELOOP")
    await refused(runtime, "write_file", {"path": "a/x", "text": "x"}, "ELOOP")


async def test_listing_does_not_follow_links_out(runtime: ToolRuntime, workspace: Path,
                                                 outside: Path) -> None:
    (workspace / "out").symlink_to(outside, target_is_directory=True)
    (workspace / "out.txt").symlink_to(outside / "secret.txt")
    (workspace / "kept.txt").write_text("12345")
    (workspace / "alias.txt").symlink_to("kept.txt")
    listing = await run(runtime, "list_files", {"recursive": True})
    assert [(e["path"], e["bytes"]) for e in listing["entries"]] == [
        ("alias.txt", 5), ("kept.txt", 5)]
    await refused(runtime, "list_files", {"path": "out"}, "escapes the workspace")


# --- hard links to a file outside -------------------------------------------------------------


@pytest.mark.parametrize("action", [READ, WRITE, APPEND], ids=["read", "write", "append"])
async def test_hard_linked_file_is_refused(runtime: ToolRuntime, workspace: Path, outside: Path,
                                           action: Action) -> None:
    os.link(outside / "secret.txt", workspace / "linked.txt")
    await refused(runtime, *with_path(action, "linked.txt"), "hard links", "linked.txt")
    assert (workspace / "linked.txt").read_text() == SECRET


# --- files that are not files ------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize("action", [READ, WRITE, APPEND], ids=["read", "write", "append"])
async def test_fifo_is_refused_without_hanging(runtime: ToolRuntime, workspace: Path,
                                               action: Action) -> None:
    os.mkfifo(workspace / "pipe")
    await refused(runtime, *with_path(action, "pipe"), "not a regular file", "pipe")


# --- names refused before any system call -----------------------------------------------------


@pytest.mark.parametrize(("path", "rule"), [
    ("notes/a\x00b.txt", "NUL byte"),
    ("notes/" + "n" * 300, "NAME_MAX"),
    ("/".join(["d" * 200] * 25), "PATH_MAX"),
    ("notes/bad\udcff.txt", "surrogate"),
    ("notes//x.txt", "empty component"),
])
async def test_bad_names_fail_for_good_with_the_rule(runtime: ToolRuntime, workspace: Path,
                                                     path: str, rule: str) -> None:
    for tool, args in (READ, WRITE, APPEND, ("list_files", {})):
        await refused(runtime, tool, {**args, "path": path}, rule)
    assert list(workspace.iterdir()) == []  # nothing made on the way


@pytest.mark.parametrize("path", ["..", "../outside/secret.txt", "a/b/../../../x",
                                  "./../x", "up/secret.txt"])
async def test_parent_escapes_are_refused(runtime: ToolRuntime, workspace: Path, outside: Path,
                                          path: str) -> None:
    (workspace / "up").symlink_to("..", target_is_directory=True)
    for tool, args in (READ, WRITE, APPEND, ("list_files", {})):
        await refused(runtime, tool, {**args, "path": path}, "escapes the workspace",
                      str(workspace.resolve()))
    assert sorted(p.name for p in workspace.iterdir()) == ["up"]


async def test_links_and_dots_inside_the_workspace_still_work(runtime: ToolRuntime,
                                                              workspace: Path) -> None:
    (workspace / "real" / "deep").mkdir(parents=True)
    (workspace / "to-deep").symlink_to("real/deep", target_is_directory=True)
    (workspace / "abs-deep").symlink_to(workspace / "real" / "deep", target_is_directory=True)
    await run(runtime, "write_file", {"path": "to-deep/a.txt", "text": "a"})
    await run(runtime, "write_file", {"path": "abs-deep/a.txt", "text": "b", "mode": "append"})
    assert (workspace / "real" / "deep" / "a.txt").read_text() == "ab"
    assert (await run(runtime, "read_file", {"path": "to-deep/../deep/./a.txt"}))["text"] == "ab"
    listing = await run(runtime, "list_files", {"path": "to-deep"})
    assert [e["path"] for e in listing["entries"]] == ["real/deep/a.txt"]
