"""Settings from ``JARVIS_*`` environment variables and an optional TOML config file.

Precedence: environment, then the config file (``JARVIS_CONFIG``, else ``<data dir>/config.toml``),
then defaults. The data dir is ``JARVIS_DATA_DIR``, else ``./.jarvis`` when that folder exists in
the working directory, else ``~/.jarvis``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from planner.mcp_servers import SERVER_NAME, McpServer
from planner.plan import PlanBudget
from planner.pricing import ModelPrice
from planner.validation import Limits


def default_data_dir() -> Path:
    env = os.environ.get("JARVIS_DATA_DIR")
    if env:
        return Path(env).expanduser()
    local = Path.cwd() / ".jarvis"
    return local if local.is_dir() else Path.home() / ".jarvis"


def config_file() -> Path:
    """The settings file: ``JARVIS_CONFIG``, else ``<data dir>/config.toml``."""
    env = os.environ.get("JARVIS_CONFIG")
    return Path(env).expanduser() if env else default_data_dir() / "config.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JARVIS_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "jarvis"
    # Tool name -> the task queue of the workers that run it (e.g. {"shell": "privileged"}:
    # shell steps run only on `jarvis worker --queue privileged`); unlisted tools run on
    # ``task_queue``. Workers (which prepare plans) and clients must share this setting.
    tool_queues: dict[str, str] = {}
    engine: Literal["auto", "temporal", "simple"] = "auto"
    connect_timeout_s: float = 3.0
    workspace: Path | None = None
    payload_inline_limit: int = 32_000
    # steps of pure tools (calc, tools declared pure) run inside the workflow, no activity
    # (docs/performance.md); False: as local activities, as before
    inline_pure_steps: bool = True
    # a local step and the chain of read-only local steps after it run in one local activity
    # while the chain has run less than this many seconds (planner/chains.py,
    # docs/performance.md); 0: one local activity per step, as before. Temporal records local
    # activities only when the workflow task completes (at the latest at its heartbeat, 8 s
    # into the task), so a crash repeats the open task's local steps chained or not; a chain
    # adds at most this much (plus its last link) to that
    local_chain_s: float = Field(2.0, ge=0, le=60)
    # read-only local steps that start at the same moment (a fan-out) run together in one
    # local activity (docs/performance.md); False: one local activity each, as before
    local_groups: bool = True
    # workflow tasks a worker takes at once (the SDK's default is 100): a goal started by a
    # client with a worker in its process skips the server's task queue only while a slot is
    # free, so 1,000 goals at once need 1,000 (docs/performance.md); each one taken must
    # finish within its 10 s workflow-task timeout, so lower it on a slow or busy machine
    workflow_task_slots: int = Field(1000, ge=2, le=10_000)
    # a run or goal whose history passes this many events continues as new between steps
    # (agents/history_budget.py); Temporal's own limit is 51,200
    history_events_limit: int = Field(10_000, ge=100, le=50_000)
    # the most steps a plan may have (planner/validation.py); long plans rely on the history
    # budget above
    plan_max_steps: int = Field(200, ge=1, le=100_000)
    webhook_url: str | None = None
    # Egress policy (docs/security.md): tools that open connections refuse loopback, private,
    # link-local and other internal addresses unless a host name or CIDR is listed here.
    egress_allow: list[str] = []
    http_max_bytes: int = Field(10_000_000, ge=1_000)
    # Web app: the Host names it answers to (DNS rebinding), and its token (generated at first
    # start into <data dir>/web-token when unset).
    web_allowed_hosts: list[str] = ["localhost", "127.0.0.1", "[::1]"]
    web_token: str | None = None
    # The key that signs a person's approval of a dangerous step (hex); read from
    # <data dir>/approval.key (created 0600 at first use) when unset. Workers and approving
    # clients (CLI, web app) must share it.
    approval_key: str | None = None
    # Payload encryption at rest (agents/codec.py, docs/security.md): key id -> 32-byte hex key,
    # and the id of the key that encrypts new payloads (the others only decrypt: rotation).
    payload_keys: dict[str, str] = {}
    payload_key_id: str | None = None

    # LLM: any OpenAI-compatible endpoint. No base URL and no key means "no LLM configured".
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 60.0
    llm_structured_mode: Literal["auto", "json_schema", "tools", "json"] = "auto"
    llm_repair_rounds: int = Field(2, ge=0, le=10)
    # How many times a goal replans after a step fails for good (a replacement for the failed
    # step and its dependants; finished steps kept, planner/recovery.py); 0: the goal fails.
    replan_rounds: int = Field(1, ge=0, le=5)
    # Prices (USD per million input/output tokens) added to or overriding the default table in
    # planner/pricing.py, e.g. {"my-model": {"input": 0.5, "output": 1.5}}.
    llm_prices: dict[str, ModelPrice] = {}
    # A goal's budget (planner/budget.py); a plan's own budget can only tighten it. None: no limit.
    budget_tokens: int | None = Field(500_000, ge=0)
    budget_cost_usd: float | None = Field(5.0, ge=0)
    budget_wall_time_s: float | None = Field(None, gt=0)
    budget_steps: int | None = Field(1_000, ge=0)
    budget_llm_calls: int | None = Field(100, ge=0)
    # MCP servers whose tools are JARVIS tools (planner/mcp_servers.py, README "MCP servers as
    # tools"): name -> {"command": ..., "args": [...]} or {"url": ..., "headers": {...}}
    mcp_servers: dict[Annotated[str, StringConstraints(pattern=SERVER_NAME)], McpServer] = {}
    # Template memory (chromadb): embedded PersistentClient in the data dir unless a host is set.
    chroma_host: str | None = None
    chroma_port: int = 8000
    # auto: bundled MiniLM (optional extra `minilm`), else chroma's cached model, else hashing
    embedding_backend: Literal["auto", "hashing", "minilm", "chroma-default", "openai"] = "auto"
    embedding_model: str = "text-embedding-3-small"
    template_reuse_distance: float = Field(0.25, ge=0, le=2)
    # Review gate: risk levels that run without asking (dangerous always asks), and how long a
    # goal waits for a decision before it expires.
    auto_approve: list[Literal["read-only", "side-effecting"]] = ["read-only"]
    approval_timeout_s: float = Field(86_400.0, gt=0)
    # Worker versioning (docs/versioning.md): the Worker Deployment and build id this worker
    # reports (no build id: derived from the installed code), and whether the server routes goals
    # by version (off: any worker on the task queue takes any goal, as before).
    deployment_name: str = Field("jarvis", pattern=r"^[^.]+$")
    build_id: str | None = None
    worker_versioning: bool = False
    versioning_behavior: Literal["pinned", "auto_upgrade"] = "pinned"
    # `jarvis mcp`: whether an MCP client may approve dangerous steps (signing their grants
    # with this server's approval key); off: only `jarvis approve` and the web app may.
    mcp_approve_dangerous: bool = False
    # Logs of `jarvis worker` and `jarvis serve`: readable lines, or one JSON object a line.
    log_format: Literal["text", "json"] = "text"
    # Prometheus /metrics of `jarvis worker` (docs/operations.md): off unless a port is set
    # (0: any free port, printed at start); the host to bind; how often the worker counts the
    # goals waiting for approval.
    metrics_port: int | None = Field(None, ge=0, le=65_535)
    metrics_host: str = "127.0.0.1"
    metrics_sample_s: float = Field(15.0, gt=0)
    # Traces (OpenTelemetry, agents/tracing.py, docs/operations.md): an OTLP/HTTP base URL
    # (e.g. http://127.0.0.1:4318), or spans printed to stderr; both off by default.
    otel_endpoint: str | None = None
    otel_console: bool = False
    otel_service_name: str = "jarvis"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    @property
    def workspace_dir(self) -> Path:
        return (self.workspace or self.data_dir / "workspace").expanduser()

    @property
    def payload_dir(self) -> Path:
        return self.data_dir / "payloads"

    @property
    def temporal_db(self) -> Path:
        return self.data_dir / "temporal.sqlite"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    def plan_limits(self) -> Limits:
        """The size limits plans are validated against."""
        return Limits(max_steps=self.plan_max_steps)

    def goal_budget(self) -> PlanBudget:
        """The budget a goal gets unless its submitter asks for another."""
        return PlanBudget(max_tokens=self.budget_tokens, max_cost_usd=self.budget_cost_usd,
                          max_wall_time_s=self.budget_wall_time_s, max_steps=self.budget_steps,
                          max_llm_calls=self.budget_llm_calls)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
