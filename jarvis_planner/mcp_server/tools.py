"""The MCP tools of `jarvis mcp`, each a thin call to ``JarvisClient``.

Goals submitted here are reviewed like any other: they start with the server's own approval
policy (``JARVIS_AUTO_APPROVE``; nothing here pre-approves), so an MCP client cannot skip the
review gate. ``approve`` names the plan version it approves (``plan_digest``); a plan with a
dangerous step is refused over MCP unless the server sets ``JARVIS_MCP_APPROVE_DANGEROUS=true``
(the grants for dangerous steps are signed by this server's approval key)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field
from temporalio.service import RPCError

from agents.client import DecisionRefused, Gone, JarvisClient, NotFound
from jarvis_planner.mcp_server.views import (
    Cancelled,
    GoalView,
    PendingList,
    goal_view,
    pending_list,
)
from planner.approval import short
from planner.contracts.goal_flow import GoalState
from planner.settings import Settings
from planner.tools import Risk, ToolRegistry

MAX_WAIT_S = 120.0
CANCEL_WAIT_S = 10.0  # for a cancelled or rejected goal to close
GoalText = Annotated[str, Field(min_length=1, max_length=4000,
                                description="What to do, in words (e.g. 'remind me to stretch "
                                            "in 10 minutes')")]
GoalId = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[\w.:@+-]+$",
                              description="The goal id returned by run_goal or plan_goal")]
WaitS = Annotated[float, Field(ge=0, le=MAX_WAIT_S,
                               description="Seconds to wait for the goal to finish or to need "
                                           "review before returning its current state")]
Digest = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[0-9a-fA-F]+$",
                              description="The plan version you reviewed (plan_digest of the "
                                          "goal's state, or its first 8+ characters)")]
Note = Annotated[str, Field(max_length=2000, description="Kept with the decision")]
Identity = Callable[[Context[Any, Any]], str]
DANGEROUS_REFUSED = ("the plan of {goal_id} has dangerous steps ({steps}); approving dangerous "
                     "steps over MCP is off: approve them with `jarvis approve {goal_id}` or in "
                     "the web app (or set JARVIS_MCP_APPROVE_DANGEROUS=true on the MCP server)")


async def _guarded(call: Awaitable[Any]) -> Any:
    """The client's refusals as tool errors an MCP client shows as they are."""
    try:
        return await call
    except (DecisionRefused, NotFound, Gone) as exc:
        raise ToolError(str(exc)) from exc
    except RPCError as exc:
        raise ToolError(f"the Temporal server refused: {exc.message}") from exc


async def _state(jarvis: JarvisClient, goal_id: str) -> GoalState:
    described = await _guarded(jarvis.describe(goal_id))
    if described.kind != "goal":
        raise ToolError(f"{goal_id} is not a goal (it is a {described.workflow_type})")
    state: GoalState = await _guarded(jarvis.state(goal_id))
    return state


async def _settled(jarvis: JarvisClient, goal_id: str, wait_s: float, *,
                   until_review: bool) -> GoalState:
    """The goal's state once it finishes (or waits for review, with ``until_review``), or
    after ``wait_s`` seconds, whichever comes first."""
    waiting = jarvis.wait_for_review(goal_id) if until_review else jarvis.result(goal_id)
    try:
        state: GoalState = await asyncio.wait_for(_guarded(waiting), timeout=wait_s)
        return state
    except TimeoutError:
        return await _state(jarvis, goal_id)


class _Risks:
    """The tools' risks for dry runs, from the registry `jarvis plan` uses (built-ins, plugins
    and the settings' MCP servers), built on the first dry run only and off the event loop
    (listing MCP servers waits on them)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._registry: ToolRegistry | None = None

    async def registry(self) -> ToolRegistry:
        if self._registry is None:
            from activities import default_registry

            self._registry = await asyncio.to_thread(default_registry, settings=self._settings)
        return self._registry


async def _with_risks(state: GoalState, risks: _Risks) -> GoalState:
    """A dry run stops before `prepare`, which sets each step's risk: the risks of the tools
    of this server's registry (as `jarvis plan` shows them)."""
    if state.plan is None or state.risks:
        return state
    registry = await risks.registry()
    return state.model_copy(update={"risks": {
        s.id: tool.risk for s in state.plan.steps if (tool := registry.get(s.tool))}})


def build_server(jarvis: JarvisClient, identity: Identity) -> MCPServer:
    """The MCP server's tools on ``jarvis``; ``identity`` names who calls (kept as the goal's
    submitter and with each decision)."""
    server: MCPServer = MCPServer(
        "jarvis", title="JARVIS Planner",
        instructions="Hand goals to JARVIS: plan_goal shows the plan it would run; run_goal "
                     "starts it. Goals whose steps are not read-only wait for review: show the "
                     "person the steps and risks, then approve (naming plan_digest) or reject.")
    settings = jarvis.settings
    risks = _Risks(settings)

    @server.tool(annotations=ToolAnnotations(title="Plan a goal (dry run)", read_only_hint=True,
                                             open_world_hint=False))
    async def plan_goal(goal: GoalText, ctx: Context[Any, Any],
                        wait_s: WaitS = 60.0) -> GoalView:
        """Plan a goal without running anything: the steps, each step's risk, and problems."""
        goal_id = await _guarded(jarvis.submit(goal, dry_run=True, by=identity(ctx)))
        return goal_view(goal_id, await _with_risks(
            await _settled(jarvis, goal_id, wait_s, until_review=False), risks))

    @server.tool(annotations=ToolAnnotations(title="Run a goal", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=False,
                                             open_world_hint=True))
    async def run_goal(goal: GoalText, ctx: Context[Any, Any], wait_s: WaitS = 30.0) -> GoalView:
        """Start a goal. It runs at once when the server's policy allows (read-only steps);
        otherwise it waits for review (stage awaiting_approval): approve or reject it."""
        goal_id = await _guarded(jarvis.submit(goal, by=identity(ctx)))
        return goal_view(goal_id, await _settled(jarvis, goal_id, wait_s, until_review=True))

    @server.tool(annotations=ToolAnnotations(title="A goal's state", read_only_hint=True,
                                             idempotent_hint=True, open_world_hint=False))
    async def goal_state(goal_id: GoalId) -> GoalView:
        """A goal's stage, plan (steps, risks, version) and, once run, its steps' outputs."""
        return goal_view(goal_id, await _state(jarvis, goal_id))

    @server.tool(annotations=ToolAnnotations(title="Goals waiting for review",
                                             read_only_hint=True, idempotent_hint=True,
                                             open_world_hint=False))
    async def pending_goals(limit: Annotated[int, Field(ge=1, le=100)] = 20) -> PendingList:
        """The goals waiting for a decision (approve or reject), newest first."""
        return pending_list(await _guarded(jarvis.list(limit, pending=True)))

    @server.tool(annotations=ToolAnnotations(title="Approve a goal's plan", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=False,
                                             open_world_hint=True))
    async def approve(goal_id: GoalId, plan_digest: Digest, ctx: Context[Any, Any],
                      note: Note = "", wait_s: WaitS = 30.0) -> GoalView:
        """Approve version plan_digest of a waiting goal's plan: it starts executing. Refused
        when the plan is another version now (read it again with goal_state)."""
        state = await _state(jarvis, goal_id)
        if state.plan is None or state.plan_digest is None or not state.pending_approval:
            raise ToolError(f"cannot approve: goal {goal_id} is {state.stage}, not awaiting "
                            "approval")
        if not state.plan_digest.startswith(plan_digest.lower()):
            raise ToolError(f"the plan of {goal_id} is version {short(state.plan_digest)} now, "
                            f"not {plan_digest}: it changed since it was read; read it again "
                            "with goal_state and approve the version shown")
        dangerous = [s.id for s in state.plan.steps
                     if state.risks.get(s.id) == Risk.DANGEROUS]
        if dangerous and not settings.mcp_approve_dangerous:
            raise ToolError(DANGEROUS_REFUSED.format(goal_id=goal_id, steps=", ".join(dangerous)))
        await _guarded(jarvis.approve(goal_id, state.plan_digest, by=identity(ctx), note=note))
        return goal_view(goal_id, await _settled(jarvis, goal_id, wait_s, until_review=False))

    @server.tool(annotations=ToolAnnotations(title="Reject a goal's plan", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=False,
                                             open_world_hint=False))
    async def reject(goal_id: GoalId, ctx: Context[Any, Any], reason: Note = "") -> GoalView:
        """Reject a waiting goal's plan: nothing runs."""
        await _state(jarvis, goal_id)
        await _guarded(jarvis.reject(goal_id, by=identity(ctx), reason=reason))
        return goal_view(goal_id, await _settled(jarvis, goal_id, CANCEL_WAIT_S,
                                                 until_review=False))

    @server.tool(annotations=ToolAnnotations(title="Cancel a goal", read_only_hint=False,
                                             destructive_hint=True, idempotent_hint=True,
                                             open_world_hint=False))
    async def cancel(goal_id: GoalId) -> Cancelled:
        """Cancel a goal (running steps are cancelled; finished ones are not undone)."""
        described = await _guarded(jarvis.describe(goal_id))
        if described.kind != "goal":
            raise ToolError(f"{goal_id} is not a goal (it is a {described.workflow_type})")
        if described.running:
            await _guarded(jarvis.cancel(goal_id))
            with contextlib.suppress(Gone, TimeoutError):  # Gone: cancelled, as asked
                await asyncio.wait_for(jarvis.result(goal_id), timeout=CANCEL_WAIT_S)
        status = (await _guarded(jarvis.describe(goal_id))).status
        return Cancelled(goal_id=goal_id, cancel_requested=described.running, status=status)

    return server
