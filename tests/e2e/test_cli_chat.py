"""`jarvis chat` at a terminal (a pseudo-terminal: what a person sees): a line starting with `/`
is a command and never a goal; /help, /pending and /goals answer in words and columns."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.clitools import Terminal, cli_env, jarvis

DENTIST = "remember that the dentist is on Friday"


def test_chat_commands_at_a_terminal(tmp_path: Path, temporal_address: str,
                                     task_queue: str) -> None:
    env = cli_env(tmp_path / "data", temporal_address, task_queue)
    chat = Terminal("chat", env=env)
    chat.expect("you>")
    chat.send("/help")
    chat.expect("you>", 2)
    chat.send("/pending")
    chat.expect("you>", 3)
    chat.send("/nonsense now")
    chat.expect("you>", 4)
    chat.send(DENTIST)
    chat.expect("[r]:")  # side-effecting: the chat asks before running it
    chat.send("a")
    chat.expect("jarvis> done")
    chat.expect("you>", 5)
    chat.send("/goals")
    chat.expect("you>", 6)
    chat.send("/quit")
    assert chat.finish() == 0, chat.text
    text = chat.text

    after_help = text.split("you> /help", 1)[1]
    for command in ("/pending", "/goals", "/quit"):
        assert command in after_help.split("you>", 1)[0], text  # /help lists the commands
    assert "no goals wait for review" in text  # /pending printed nothing before
    assert "unknown command /nonsense; /help lists them" in text
    goals_table = text.rsplit("you> /goals", 1)[1]
    header = next(line for line in goals_table.splitlines() if line.strip().startswith("id"))
    assert re.search(r"id\s+stage\s+started\s+goal", header), goals_table  # a stage column
    row = next(line for line in goals_table.splitlines() if DENTIST in line)
    assert re.search(r"goal-\S+\s+succeeded\s+\S+\s+" + DENTIST, row), row

    # nothing starting with "/" went to the planner as a goal
    goals = json.loads(jarvis("list", "--goals", "--json", "--limit", "100", env=env).stdout)
    assert not [g for g in goals if g["goal"].startswith("/")], goals
