"""Worker versioning (docs/versioning.md): the code version a worker runs (its build id in a
Temporal Worker Deployment), the deployment options of the worker, and the server-side steps an
operator takes (make a version current; read which version ran a goal)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib.metadata
import time
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

from planner.settings import Settings

# what a worker runs: the workflows, the activities, the domain they share and the prompts
CODE_PACKAGES = ("planner", "agents", "activities", "prompts")
BEHAVIORS = {"pinned": VersioningBehavior.PINNED,
             "auto_upgrade": VersioningBehavior.AUTO_UPGRADE}


class VersioningError(RuntimeError):
    pass


@functools.cache
def code_build_id() -> str:
    """``<package version>-<10 hex digits>``: the digest covers every file (name and content,
    in path order) of the packages a worker runs, so any change of the installed code gives a
    new build id and the same code always the same one. Computed once per process."""
    try:
        version = importlib.metadata.version("jarvis-planner")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    root = Path(__file__).resolve().parent.parent
    return f"{version}-{code_digest(root, CODE_PACKAGES)[:10]}"


def code_digest(root: Path, packages: Sequence[str]) -> str:
    """SHA-256 over the relative path and content of every file of the packages under
    ``root`` (bytecode caches left out), in path order."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_id(settings: Settings) -> str:
    """``JARVIS_BUILD_ID``, else the one derived from the installed code."""
    return settings.build_id or code_build_id()


def worker_version(settings: Settings) -> WorkerDeploymentVersion:
    return WorkerDeploymentVersion(settings.deployment_name, build_id(settings))


def deployment_config(settings: Settings) -> WorkerDeploymentConfig:
    """Every worker reports its version (so each goal records the code that ran it); with
    ``JARVIS_WORKER_VERSIONING`` on, the server also routes by it: new goals go to the
    deployment's current version, and running ones stay on theirs (pinned) or move to the
    current one at their next task (auto_upgrade)."""
    return WorkerDeploymentConfig(
        version=worker_version(settings),
        use_worker_versioning=settings.worker_versioning,
        default_versioning_behavior=(BEHAVIORS[settings.versioning_behavior]
                                     if settings.worker_versioning
                                     else VersioningBehavior.UNSPECIFIED))


async def set_current_version(client: Client, deployment_name: str, build_id: str, *,
                              wait_s: float = 0.0) -> None:
    """Make ``deployment_name.build_id`` the version new goals start on. The server knows a
    version once one of its workers polled; ``wait_s`` waits that long for it to appear."""
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace, deployment_name=deployment_name, build_id=build_id,
        identity=client.identity)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError as exc:
            if time.monotonic() >= deadline:
                raise VersioningError(
                    f"could not make {deployment_name}.{build_id} current: {exc.message}; "
                    "start a worker with that build id (`jarvis worker --build-id "
                    f"{build_id}` with JARVIS_WORKER_VERSIONING=true) and try again") from exc
        await asyncio.sleep(0.2)


async def current_build_id(client: Client, deployment_name: str) -> str | None:
    """The build id new goals of the deployment start on: "" when it has no current version,
    None when the server does not know the deployment (no worker of it polled yet)."""
    try:
        described = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace,
                                            deployment_name=deployment_name))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return described.worker_deployment_info.routing_config.current_deployment_version.build_id


async def adopt_if_first(client: Client, settings: Settings, *, wait_s: float = 30.0) -> bool:
    """Make this worker's version current when its deployment has none yet (the first start
    with versioning on: otherwise no goal would run until someone ran `jarvis deploy
    set-current`). A deployment that has a current version keeps it: a new build becomes
    current only when an operator says so. True if this call made it current."""
    mine = build_id(settings)
    deadline = time.monotonic() + wait_s
    while True:
        current = await current_build_id(client, settings.deployment_name)
        if current:
            return False
        if current == "":  # the deployment exists: this worker polled, or another one did
            try:
                await set_current_version(client, settings.deployment_name, mine)
                return True
            except VersioningError:
                if time.monotonic() >= deadline:
                    raise
        elif time.monotonic() >= deadline:
            raise VersioningError(
                f"the server never listed deployment {settings.deployment_name!r}: is worker "
                "versioning enabled on it? (docs/versioning.md)")
        await asyncio.sleep(0.2)


async def pinned_version(client: Client, workflow_id: str) -> str | None:
    """The server's view of a goal's version: the deployment version its workflow is pinned
    to or last ran on (``deployment.build_id``), None for an unversioned workflow."""
    described = await client.get_workflow_handle(workflow_id).describe()
    info = described.raw_description.workflow_execution_info.versioning_info
    version = info.deployment_version
    if not version.build_id:
        return None
    return f"{version.deployment_name}.{version.build_id}"
