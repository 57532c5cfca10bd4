"""Record the replay corpus: real runs of every workflow through every path, on a private dev
server with a real worker and the scripted LLM server, written as history JSON files.

    .venv/bin/python -m tests.record_histories tests/histories/v2

Run it when a workflow gains a path (and keep the files of every earlier recording: they are
what running goals were started with). ``tests/unit/test_recorded_histories.py`` replays every
file under ``tests/histories`` against today's code and checks that each path in ``PATHS`` has a
recording in the newest folder.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHistory

from activities import default_registry
from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import free_port, start_dev_server, stop_process
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.plan import Plan, PlanBudget
from planner.preparation import prepare
from planner.pricing import ModelPrice
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function
from tests.plans import add_test_tools, fan_plan, flaky

TEA = "Save the line Green tea is calming to tea.txt"
TEA_PLAN: dict[str, Any] = {
    "goal": TEA,
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "tea.txt", "text": "Green tea is calming"}},
              {"id": "check", "tool": "read_file", "args": {"path": "${write.path}"}}],
    "outputs": {"text": "${check.text}"},
}
READ_ONLY_PLAN: dict[str, Any] = {
    "goal": "Add 2 and 3", "steps": [{"id": "add", "tool": "calc", "args": {"expression": "2+3"}}],
    "outputs": {"sum": "${add.value}"}}
BROKEN_PLAN: dict[str, Any] = {**TEA_PLAN, "steps": [
    {"id": "write", "tool": "write_fil", "args": {"path": "tea.txt", "text": "x"}}]}
MISSING_FILE_PLAN: dict[str, Any] = {
    "goal": "Read the file nope.txt",
    "steps": [{"id": "read", "tool": "read_file", "args": {"path": "nope.txt"}}]}
REMIND = "remind me to stretch in 1 seconds"  # a shipped template with a side effect

Recorder = Callable[["Session"], Awaitable[str]]
SCHEDULED_PLAN = Plan.model_validate({
    "goal": "Save the line Green tea is calming to tea.txt",
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "tea.txt", "text": "Green tea is calming"}}],
    "outputs": {"path": "${write.path}"},
})


class Session:
    def __init__(self, client: Client, settings: Settings, llm: ScriptedLLM,
                 registry: ToolRegistry) -> None:
        self.jarvis = JarvisClient(client, settings)
        self.settings = settings
        self.llm = llm
        self.registry = registry  # the worker's

    async def goal(self, text: str, **kw: Any) -> str:
        return await self.jarvis.submit(text, **kw)

    async def waiting(self, text: str, **kw: Any) -> tuple[str, str]:
        goal_id = await self.jarvis.submit(text, policy="always-ask", **kw)
        state = await self.jarvis.wait_for_review(goal_id)
        assert state.stage == "awaiting_approval", state
        return goal_id, state.plan_digest or ""

    async def settled(self, goal_id: str) -> str:
        await self.jarvis.result(goal_id)
        return goal_id

    async def ended(self, workflow_id: str) -> str:
        if workflow_id.startswith("goal-"):
            return (await self.jarvis.result(workflow_id)).stage
        return (await self.jarvis.plan_result(workflow_id)).status

    async def scheduled(self, schedule_id: str) -> str:
        """Create a schedule of the approved plan, trigger it, return its first goal's id."""
        sid = await self.jarvis.create_schedule(SCHEDULED_PLAN, approve=True, by="recorder",
                                                cron=["0 8 * * *"], schedule_id=schedule_id)
        await self.jarvis.trigger_schedule(sid)
        for _ in range(300):  # a recording script: the server starts the run in a moment
            view = await self.jarvis.describe_schedule(sid)
            if view.recent:
                return view.recent[0].goal_id
            await asyncio.sleep(0.1)
        raise RuntimeError(f"schedule {sid} started no goal")

    async def plan(self, plan: Plan) -> str:
        run_id = await self.jarvis.start_plan(prepare(plan, self.registry, self.settings))
        await self.jarvis.plan_result(run_id)
        return run_id


async def goal_template(s: Session) -> str:
    return await s.settled(await s.goal("remember that the boiler is serviced in May", yes=True))


async def goal_llm_read_only(s: Session) -> str:
    s.llm.expect(reply_json(READ_ONLY_PLAN))
    return await s.settled(await s.goal("Add 2 and 3"))


async def goal_llm_repair_approve(s: Session) -> str:
    s.llm.expect(reply_json(BROKEN_PLAN))
    s.llm.expect(reply_json(TEA_PLAN))
    goal_id, digest = await s.waiting("Repair then approve: " + TEA)
    await s.jarvis.approve(goal_id, digest, by="recorder")
    return await s.settled(goal_id)


async def goal_edit_approve(s: Session) -> str:
    goal_id, digest = await s.waiting(REMIND)
    plan = (await s.jarvis.state(goal_id)).plan
    assert plan is not None
    data = plan.model_dump(mode="json")
    data["steps"][-1]["args"]["message"] = "Reminder: drink water"
    edited = await s.jarvis.edit(goal_id, Plan.model_validate(data), digest, by="recorder")
    await s.jarvis.approve(goal_id, edited.plan_digest or "", by="recorder")
    return await s.settled(goal_id)


GATED_PLAN: dict[str, Any] = {
    "goal": "Note the answer and save it", "steps": [
        {"id": "n", "tool": "calc", "args": {"expression": "6 * 7"}},
        {"id": "note", "tool": "notes_append", "args": {"text": "the answer is ${n.value}"}},
        {"id": "save", "tool": "write_file", "args": {"path": "answer.txt",
                                                      "text": "${n.value}"}}]}


async def goal_step_gates(s: Session) -> str:
    """The step-gates policy: read-only work runs, two gates wait, one approved (its value
    converted to text at the step boundary), the other rejected."""
    s.llm.expect(reply_json(GATED_PLAN))
    goal_id = await s.goal(GATED_PLAN["goal"], policy="step-gates")
    async for event in s.jarvis.events(goal_id):
        run = event.state.run
        if run and {x.id for x in run.steps if x.gate == "waiting"} == {"note", "save"}:
            break
    await s.jarvis.decide_step(goal_id, "save", True, by="recorder")
    await s.jarvis.decide_step(goal_id, "note", False, by="recorder", note="not this one")
    return await s.settled(goal_id)


LIST_PLAN: dict[str, Any] = {
    "goal": "Read the file nope.txt", "steps": [
        {"id": "ls", "tool": "list_files", "args": {"path": "."}}],
    "outputs": {"files": "${ls.count}"}}
SAVE_PLAN: dict[str, Any] = {
    "goal": "Read the file nope.txt", "steps": [
        {"id": "save", "tool": "write_file", "args": {"path": "nope.txt", "text": "made"}}]}
ABANDONED_PLAN: dict[str, Any] = {
    "goal": "Write a draft, then note it", "steps": [
        {"id": "draft", "tool": "write_file", "args": {"path": "draft.txt", "text": "draft"}},
        {"id": "note", "tool": "notes_append", "args": {"text": "drafted"},
         "deps": ["draft"]}]}


async def goal_replanned(s: Session) -> str:
    """A step fails for good; the read-only replacement runs without a second review."""
    s.llm.expect(reply_json(MISSING_FILE_PLAN))
    s.llm.expect(reply_json(LIST_PLAN))
    return await s.settled(await s.goal("Replan: read the file nope.txt", yes=True))


async def goal_replan_reviewed(s: Session) -> str:
    """The replacement writes a file: it goes back to review, and is approved."""
    s.llm.expect(reply_json(MISSING_FILE_PLAN))
    s.llm.expect(reply_json(SAVE_PLAN))
    goal_id = await s.goal("Replan with review: read the file nope.txt", yes=True)
    again = await s.jarvis.wait_for_review(goal_id)
    assert again.stage == "awaiting_approval" and again.recoveries, again
    await s.jarvis.approve(goal_id, again.plan_digest or "", by="recorder")
    return await s.settled(goal_id)


async def goal_retried(s: Session) -> str:
    """A failed goal retried from its step with new arguments (the retry's run is
    recorded)."""
    s.llm.expect(reply_json(MISSING_FILE_PLAN))
    goal_id = await s.settled(await s.goal("Retry: read the file nope.txt", yes=True))
    s.settings.workspace_dir.mkdir(parents=True, exist_ok=True)
    (s.settings.workspace_dir / "found.txt").write_text("found")
    await s.jarvis.retry(goal_id, "read", args={"path": "found.txt"}, by="recorder")
    return await s.settled(goal_id)


async def goal_abandoned(s: Session) -> str:
    """Abandoned at a gate after a write: the write is undone."""
    s.llm.expect(reply_json(ABANDONED_PLAN))
    goal_id, digest = await s.waiting(ABANDONED_PLAN["goal"])
    await s.jarvis.approve(goal_id, digest, by="recorder", gates=["note"])
    async for event in s.jarvis.events(goal_id):
        run = event.state.run
        if run and run.step("note").gate == "waiting":
            break
    await s.jarvis.decide_step(goal_id, "note", False, by="recorder", abandon=True)
    return await s.settled(goal_id)


async def goal_rejected(s: Session) -> str:
    goal_id, _ = await s.waiting(REMIND)
    await s.jarvis.reject(goal_id, by="recorder", reason="not now")
    return await s.settled(goal_id)


async def goal_expired(s: Session) -> str:
    goal_id = await s.jarvis.submit(REMIND, approval_timeout_s=1.0)
    return await s.settled(goal_id)


async def goal_failed_step(s: Session) -> str:
    s.llm.expect(reply_json(MISSING_FILE_PLAN))
    return await s.settled(await s.goal("Read the file nope.txt", yes=True))


async def goal_invalid(s: Session) -> str:
    for _ in range(3):  # the draft and two repairs, all broken
        s.llm.expect(reply_json(BROKEN_PLAN))
    return await s.settled(await s.goal("Never valid: " + TEA, yes=True))


async def goal_dry_run(s: Session) -> str:
    s.llm.expect(reply_json(TEA_PLAN))
    return await s.settled(await s.goal("Only plan: " + TEA, dry_run=True))


async def goal_over_budget_llm(s: Session) -> str:
    s.llm.expect(reply_json(BROKEN_PLAN))
    return await s.settled(await s.goal("One LLM call only: " + TEA, yes=True,
                                        budget=PlanBudget(max_llm_calls=1)))


async def goal_over_budget_step(s: Session) -> str:
    s.llm.expect(reply_json(TEA_PLAN))
    return await s.settled(await s.goal("One step only: " + TEA, yes=True,
                                        budget=PlanBudget(max_steps=1)))


async def goal_scheduled(s: Session) -> str:
    goal_id = await s.scheduled("sched-rec-tea")
    await s.jarvis.result(goal_id)
    await s.jarvis.delete_schedule("sched-rec-tea")
    return goal_id


async def goal_scheduled_review(s: Session) -> str:
    """A scheduled plan whose tool the worker no longer has: the run waits, and is rejected."""
    goal_id = await s.scheduled("sched-rec-review")
    assert (await s.jarvis.wait_for_review(goal_id)).stage == "awaiting_approval"
    await s.jarvis.reject(goal_id, by="recorder", reason="the tool is gone")
    await s.jarvis.delete_schedule("sched-rec-review")
    return await s.settled(goal_id)


async def plan_fan_out(s: Session) -> str:
    return await s.plan(fan_plan())


async def plan_failed_step(s: Session) -> str:
    return await s.plan(Plan.model_validate(MISSING_FILE_PLAN))


async def plan_retried_step(s: Session) -> str:
    return await s.plan(Plan.model_validate({
        "goal": "flaky twice then fine",
        "steps": [{"id": "f", "tool": "flaky", "args": {"key": "recorder", "failures": 2}}]}))


async def plan_durable_wait(s: Session) -> str:
    return await s.plan(Plan.model_validate({
        "goal": "wait a moment then add",
        "steps": [{"id": "pause", "tool": "wait", "args": {"seconds": 1}},
                  {"id": "add", "tool": "calc", "args": {"expression": "1+1"},
                   "deps": ["pause"]}]}))


async def plan_pure_steps(s: Session) -> str:
    """Pure steps (calc) run in the workflow, around an activity that reads their output."""
    return await s.plan(Plan.model_validate({
        "goal": "add, then profile, then add again",
        "steps": [{"id": "add", "tool": "calc", "args": {"expression": "20 + 1"}},
                  {"id": "who", "tool": "profile", "args": {"name": "ada ${add.value}"}},
                  {"id": "len", "tool": "calc", "args": {
                      "expression": "n * 2", "variables": {"n": "${who.stats.len}"}}}],
        "outputs": {"len": "${len.value}"}}))


async def plan_local_chain(s: Session) -> str:
    """Read-only local steps one after another run in one local activity (a chain)."""
    return await s.plan(Plan.model_validate({
        "goal": "write, then read, search and list in one chain",
        "steps": [{"id": "write", "tool": "write_file",
                   "args": {"path": "chain.txt", "text": "chains"}},
                  {"id": "read", "tool": "read_file", "args": {"path": "${write.path}"}},
                  {"id": "search", "tool": "notes_search", "args": {"query": "${read.text}"}},
                  {"id": "list", "tool": "list_files", "args": {"path": "."},
                   "deps": ["search"]}],
        "outputs": {"text": "${read.text}"}}))


async def plan_chain_stopped(s: Session) -> str:
    """A link that fails stops its chain; it runs again on its own (and fails the run). The
    path of inputs recorded before ``link_attempts``: recorded now, the step fails from the
    chain."""
    return await s.plan(Plan.model_validate({
        "goal": "list, then read a file that is not there",
        "steps": [{"id": "list", "tool": "list_files", "args": {"path": "."}},
                  {"id": "read", "tool": "read_file", "args": {"path": "nope.txt"},
                   "deps": ["list"]},
                  {"id": "again", "tool": "list_files", "args": {"path": "."},
                   "deps": ["read"]}]}))


async def plan_local_group(s: Session) -> str:
    """Read-only local steps that start together run in one local activity (a group)."""
    return await s.plan(Plan.model_validate({
        "goal": "write, then read, search and list at once",
        "steps": [{"id": "write", "tool": "write_file",
                   "args": {"path": "group.txt", "text": "groups"}},
                  {"id": "read", "tool": "read_file", "args": {"path": "${write.path}"}},
                  {"id": "search", "tool": "notes_search", "args": {"query": "groups"},
                   "deps": ["write"]},
                  {"id": "list", "tool": "list_files", "args": {"path": "."},
                   "deps": ["write"]}],
        "outputs": {"text": "${read.text}", "files": "${list}"}}))


async def plan_link_retried(s: Session) -> str:
    """A chain's link fails once with an error a retry may fix: that is its step's first
    attempt; the step waits its retry interval and runs the attempts left on its own (leading
    a chain of its own)."""
    return await s.plan(Plan.model_validate({
        "goal": "list, read shakily, list again",
        "steps": [{"id": "list", "tool": "list_files", "args": {"path": "."}},
                  {"id": "shaky", "tool": FLAKY_READ, "args": {"key": "link", "failures": 1},
                   "deps": ["list"]},
                  {"id": "again", "tool": "list_files", "args": {"path": "."},
                   "deps": ["shaky"]}],
        "outputs": {"calls": "${shaky.calls}"}}))


def chain_plan(goal: str, length: int) -> dict[str, Any]:
    """``length`` test-tool steps (activities, not local ones), one after another: long enough
    to continue as new under a small history budget."""
    steps = [{"id": f"s{i}", "tool": "profile", "args": {"name": f"step {i}"},
              "deps": [f"s{i - 1}"] if i else []} for i in range(length)]
    return {"goal": goal, "steps": steps, "outputs": {"last": f"${{s{length - 1}.name}}"}}


async def plan_continued(s: Session) -> str:
    return await s.plan(Plan.model_validate(chain_plan("count to forty", CHAIN)))


async def goal_continued(s: Session) -> str:
    s.llm.expect(reply_json(chain_plan("count to forty, one at a time", CHAIN)))
    return await s.settled(await s.goal("count to forty, one at a time", policy="approve-all"))


CHAIN = 40
# paths run under a history budget small enough to continue as new (agents/history_budget.py);
# the recording is the second run: resumed from the first, and continued as new itself
CONTINUED = {"plan-continued", "goal-continued"}
SMALL_HISTORY = {"history_events_limit": 100}


# path -> how it is recorded, and the stage (goals) or status (plan runs) it must end in
PATHS: dict[str, tuple[Recorder, str]] = {
    "goal-scheduled": (goal_scheduled, "succeeded"),
    "goal-scheduled-review": (goal_scheduled_review, "rejected"),
    "goal-template": (goal_template, "succeeded"),
    "goal-llm-read-only": (goal_llm_read_only, "succeeded"),
    "goal-llm-repair-approve": (goal_llm_repair_approve, "succeeded"),
    "goal-edit-approve": (goal_edit_approve, "succeeded"),
    "goal-rejected": (goal_rejected, "rejected"),
    "goal-expired": (goal_expired, "expired"),
    "goal-failed-step": (goal_failed_step, "failed"),
    "goal-invalid": (goal_invalid, "invalid"),
    "goal-dry-run": (goal_dry_run, "planned"),
    "goal-over-budget-llm": (goal_over_budget_llm, "over_budget"),
    "goal-over-budget-step": (goal_over_budget_step, "over_budget"),
    "plan-fan-out": (plan_fan_out, "succeeded"),
    "plan-failed-step": (plan_failed_step, "failed"),
    "plan-retried-step": (plan_retried_step, "succeeded"),
    "plan-durable-wait": (plan_durable_wait, "succeeded"),
    "plan-pure-steps": (plan_pure_steps, "succeeded"),
    "plan-local-chain": (plan_local_chain, "succeeded"),
    "plan-chain-stopped": (plan_chain_stopped, "failed"),
    "plan-local-group": (plan_local_group, "succeeded"),
    "plan-link-retried": (plan_link_retried, "succeeded"),
    "plan-continued": (plan_continued, "succeeded"),
    "goal-continued": (goal_continued, "succeeded"),
    "goal-step-gates": (goal_step_gates, "succeeded"),
    "goal-replanned": (goal_replanned, "succeeded"),
    "goal-replan-reviewed": (goal_replan_reviewed, "succeeded"),
    "goal-retried": (goal_retried, "succeeded"),
    "goal-abandoned": (goal_abandoned, "rejected"),
}


WITHOUT_WRITE_FILE = {"goal-scheduled-review"}  # a worker whose tools changed since approval
# a read-only (so local, chained) tool that fails its first calls with an error a retry may fix
FLAKY_READ = "flaky_read"
REPLANNING = {"goal-replanned", "goal-replan-reviewed"}  # the others fail without a replan


def without(registry: ToolRegistry, tool: str) -> ToolRegistry:
    kept = ToolRegistry()
    for t in registry:
        if t.name != tool:
            kept.register(t)
    return kept


async def second_run(client: Client, workflow_id: str) -> WorkflowHistory:
    """The history of the run that resumed the first and continued as new itself."""
    runs = [r async for r in client.list_workflows(f'WorkflowId="{workflow_id}"')]
    if len(runs) < 3:
        raise SystemExit(f"{workflow_id} ran {len(runs)} run(s), not 3 or more: not recorded")
    first_to_last = sorted(runs, key=lambda r: r.start_time)
    return await client.get_workflow_handle(workflow_id,
                                            run_id=first_to_last[1].run_id).fetch_history()


async def record(out: Path, only: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        server = start_dev_server(folder / "temporal.sqlite", port,
                                  log_file=folder / "server.log")
        llm = ScriptedLLM().start()
        try:
            client = await connect(f"127.0.0.1:{port}")
            settings = Settings(
                data_dir=folder / "data", temporal_address=f"127.0.0.1:{port}",
                task_queue="recorder", embedding_backend="hashing",
                llm_base_url=llm.base_url, llm_api_key="scripted-key", llm_model=llm.model,
                llm_timeout_s=10.0, llm_prices={llm.model: ModelPrice(input=1.0, output=2.0)})
            for name, (recorder, expected) in PATHS.items():
                if only and name not in only:
                    continue
                registry = add_test_tools(default_registry())
                registry.register(tool_from_function(flaky, name=FLAKY_READ, timeout_s=10,
                                                     retry=registry["flaky"].retry))
                if name in WITHOUT_WRITE_FILE:
                    registry = without(registry, "write_file")
                run_settings = (settings.model_copy(update=SMALL_HISTORY) if name in CONTINUED
                                else settings)
                run_settings = run_settings.model_copy(
                    update={"replan_rounds": 1 if name in REPLANNING else 0})
                async with create_worker(client, run_settings, registry, sandboxed=True):
                    session = Session(client, run_settings, llm, registry)
                    workflow_id = await recorder(session)
                    ended = await session.ended(workflow_id)
                    if ended != expected:
                        raise SystemExit(f"{name} ended {ended}, not {expected}: not recorded")
                    history = await session.jarvis.handle(workflow_id).fetch_history()
                    if name in CONTINUED:
                        history = await second_run(client, workflow_id)
                    text = json.dumps(json.loads(history.to_json()), indent=1)
                    (out / f"{name}.json").write_text(text + "\n")
                    print(f"recorded {name}: {len(history.events)} events", flush=True)
        finally:
            stop_process(server)
            llm.stop()  # strict: a scripted reply no path used fails the recording


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1]), sys.argv[2:]))
