"""Structural checks of docker-compose.yml, the Dockerfile and .dockerignore.

No Docker engine is needed (or available on the dev machines): these parse the files and check
the facts a typo would silently break — service references, addresses and ports, volumes, the
files bind-mounted from the repo, the worker image's command.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from planner.settings import Settings
from tests.paths import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: Any) -> Any:
    """Compose-style ``${VAR:-default}`` with the defaults only (the environment is ignored,
    so the test checks what a plain `docker compose up` runs); ``$$`` is a literal ``$``."""
    if isinstance(value, str):
        text = value.replace("$$", "\0")
        text = _VAR.sub(lambda m: m.group("default") or "", text)
        return text.replace("\0", "$")
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return interpolate(data)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert isinstance(compose.get("services"), dict) and compose["services"]
    return compose["services"]


def env_of(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        return {k: v for k, v in pairs}
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def container_ports(service: dict[str, Any]) -> set[int]:
    """Container-side ports of the short syntax: "7233", "7233:7233", "127.0.0.1:7233:7233"."""
    ports = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).split(":")[-1].split("/")[0]))
    return ports


def mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, is_bind) for each short-syntax or long-syntax volume entry."""
    result = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            source, target = entry.get("source", ""), entry["target"]
            is_bind = entry.get("type") == "bind"
        else:
            source, target = str(entry).split(":")[:2]
            is_bind = source.startswith((".", "/", "~"))
        result.append((source, target, is_bind))
    return result


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def temporal_service(services: dict[str, dict[str, Any]]) -> str:
    names = [n for n, s in services.items() if "temporalio/server" in s.get("image", "")]
    assert len(names) == 1, f"expected one temporalio/server service, found {names}"
    return names[0]


def host_path(service: dict[str, Any], container_path: str) -> Path:
    """The repo file that a bind mount of ``service`` puts at ``container_path``."""
    target_path = PurePosixPath(container_path)
    for source, target, is_bind in mounts(service):
        if is_bind and target_path.is_relative_to(PurePosixPath(target)):
            return ROOT / source / target_path.relative_to(PurePosixPath(target))
    raise AssertionError(f"no bind mount provides {container_path}")


# ---- docker-compose.yml ------------------------------------------------------------------


def test_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    for name in ("postgresql", "temporal", "temporal-ui", "worker"):
        assert name in services


def test_every_depends_on_names_a_defined_service(services: dict[str, dict[str, Any]]) -> None:
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for dep, condition in depends_on(service).items():
            assert dep in services, f"{name} depends on undefined service {dep!r}"
            assert dep != name, f"{name} depends on itself"
            assert condition in allowed, f"{name} -> {dep}: unknown condition {condition!r}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy, " \
                                                       f"but {dep} has no healthcheck"
            if condition == "service_completed_successfully":
                assert services[dep].get("restart") not in ("always", "unless-stopped"), (
                    f"{name} waits for {dep} to complete, but {dep} restarts forever")


def test_depends_on_has_no_cycle(services: dict[str, dict[str, Any]]) -> None:
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        assert state.get(name) != "active", f"depends_on cycle: {' -> '.join([*path, name])}"
        state[name] = "active"
        for dep in depends_on(services[name]):
            visit(dep, [*path, name])
        state[name] = "done"

    for name in services:
        visit(name, [])


def test_temporal_waits_for_a_healthy_database(services: dict[str, dict[str, Any]]) -> None:
    # Directly, or through the one-shot schema setup that itself waits for the database.
    pending, seen = [temporal_service(services)], set()
    while pending:
        name = pending.pop()
        for dep, condition in depends_on(services[name]).items():
            if dep == "postgresql":
                assert condition == "service_healthy"
                return
            if dep not in seen:
                seen.add(dep)
                pending.append(dep)
    raise AssertionError("the temporal server does not (transitively) depend on postgresql")


def test_postgres_has_named_volume_and_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    pg = services["postgresql"]
    assert re.fullmatch(r"postgres:16(\.\d+)*(-[a-z0-9.]+)?", pg["image"]), pg["image"]
    named = [(s, t) for s, t, is_bind in mounts(pg) if not is_bind and s]
    assert ("postgresql-data", "/var/lib/postgresql/data") in named
    assert pg["healthcheck"]["test"]


def test_database_credentials_agree(services: dict[str, dict[str, Any]]) -> None:
    pg_env = env_of(services["postgresql"])
    for name, service in services.items():
        env = env_of(service)
        if "POSTGRES_SEEDS" not in env:
            continue
        assert env["POSTGRES_SEEDS"] == "postgresql", name
        assert env["POSTGRES_USER"] == pg_env["POSTGRES_USER"], name
        assert env["POSTGRES_PWD"] == pg_env["POSTGRES_PASSWORD"], name
        assert env.get("DB") == "postgres12", name


def test_worker_points_at_the_temporal_frontend(services: dict[str, dict[str, Any]]) -> None:
    server = temporal_service(services)
    host, port = split_address(env_of(services["worker"])["JARVIS_TEMPORAL_ADDRESS"] or "")
    assert host == server
    # The frontend's gRPC port: what the server publishes and its healthcheck probes.
    assert port in container_ports(services[server])
    assert str(port) in services[server]["healthcheck"]["test"]


def test_ui_and_admin_tools_point_at_the_server(services: dict[str, dict[str, Any]]) -> None:
    server = temporal_service(services)
    frontend = {f"{server}:{p}" for p in container_ports(services[server])}
    assert env_of(services["temporal-ui"])["TEMPORAL_ADDRESS"] in frontend
    assert 8080 in container_ports(services["temporal-ui"])
    for name, service in services.items():
        if "temporalio/admin-tools" in service.get("image", "") and \
                "TEMPORAL_ADDRESS" in env_of(service):
            assert env_of(service)["TEMPORAL_ADDRESS"] in frontend, name


def test_namespace_is_the_same_everywhere(services: dict[str, dict[str, Any]]) -> None:
    worker_ns = env_of(services["worker"]).get("JARVIS_TEMPORAL_NAMESPACE")
    assert worker_ns == Settings.model_fields["temporal_namespace"].default
    created = [env_of(s)["DEFAULT_NAMESPACE"] for s in services.values()
               if "DEFAULT_NAMESPACE" in env_of(s)]
    assert created == [worker_ns], "exactly one service must register the workers' namespace"
    assert env_of(services["temporal-ui"]).get("TEMPORAL_DEFAULT_NAMESPACE") == worker_ns


def test_worker_env_names_are_real_settings(services: dict[str, dict[str, Any]]) -> None:
    fields = {f"JARVIS_{name.upper()}" for name in Settings.model_fields}
    for key in env_of(services["worker"]):
        if key.startswith("JARVIS_"):
            assert key in fields, f"{key} is not a JARVIS setting (typo?)"


def test_worker_data_dir_is_the_shared_volume(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    data_dir = env_of(worker)["JARVIS_DATA_DIR"]
    assert ("jarvis-data", data_dir, False) in mounts(worker)


def test_privileged_worker_is_optional_and_like_the_worker(
        services: dict[str, dict[str, Any]]) -> None:
    """The example worker for routed tools: only with its profile, on the "privileged" queue,
    the worker's image, server, namespace, workflow queue, data volume and routing setting."""
    worker, privileged = services["worker"], services["worker-privileged"]
    assert privileged["profiles"] == ["privileged"]
    assert privileged["command"] == ["jarvis", "worker", "--queue", "privileged"]
    assert privileged["image"] == worker["image"]
    assert mounts(privileged) == mounts(worker)
    same = ("JARVIS_TEMPORAL_ADDRESS", "JARVIS_TEMPORAL_NAMESPACE", "JARVIS_TASK_QUEUE",
            "JARVIS_DATA_DIR", "JARVIS_TOOL_QUEUES")
    assert {k: env_of(privileged).get(k) for k in same} == {k: env_of(worker).get(k)
                                                          for k in same}
    for key in env_of(privileged):
        assert key.removeprefix("JARVIS_").lower() in Settings.model_fields, key


def test_worker_is_scalable(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker, "a fixed container name prevents --scale"
    assert not worker.get("ports"), "a published host port prevents --scale"
    assert str(worker.get("scale", 1)).isdigit()
    assert worker["build"]["context"] in (".", "./")
    assert (ROOT / worker["build"].get("dockerfile", "Dockerfile")).is_file()


def test_named_volumes_are_declared(compose: dict[str, Any],
                                    services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose.get("volumes") or {})
    used = {source for service in services.values()
            for source, _, is_bind in mounts(service) if not is_bind and source}
    assert used <= declared, f"undeclared volumes: {sorted(used - declared)}"
    assert {"postgresql-data", "jarvis-data"} <= used


def test_bind_mounts_exist_in_the_repo(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for source, _, is_bind in mounts(service):
            if is_bind:
                assert source.startswith("./"), f"{name}: bind mounts must be repo-relative"
                assert (ROOT / source).exists(), f"{name}: {source} is missing"


def test_dynamic_config_file_exists(services: dict[str, dict[str, Any]]) -> None:
    server = services[temporal_service(services)]
    configured = env_of(server)["DYNAMIC_CONFIG_FILE_PATH"] or ""
    # Relative paths are resolved against the server image's working dir, /etc/temporal.
    in_container = PurePosixPath("/etc/temporal") / configured
    path = host_path(server, str(in_container))
    assert path.is_file(), f"{configured} -> {path} is missing"
    dynamic = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(dynamic, dict) and dynamic
    for key, values in dynamic.items():
        assert isinstance(values, list) and values, key
        assert all(isinstance(v, dict) and "value" in v for v in values), key


def test_one_shot_scripts_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        command = service.get("command")
        if not isinstance(command, list):
            continue
        for arg in command:
            if isinstance(arg, str) and arg.startswith("/") and arg.endswith(".sh"):
                assert host_path(service, arg).is_file(), f"{name}: {arg} is not in the repo"


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", f"{name}: pin a version, not {image!r}"
    server_tag = services[temporal_service(services)]["image"].rpartition(":")[2]
    assert re.fullmatch(r"1\.(2\d|3\d)\.\d+", server_tag), server_tag
    assert re.fullmatch(r"2\.\d+\.\d+", services["temporal-ui"]["image"].rpartition(":")[2])
    admin_tags = {s["image"].rpartition(":")[2] for s in services.values()
                  if "temporalio/admin-tools" in s.get("image", "")}
    assert admin_tags == {server_tag}, "schema tools must match the server release"


# ---- Dockerfile and .dockerignore --------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        lines.append((keyword.upper(), rest.strip()))
        current = ""
    return lines


def test_dockerfile_cmd_runs_jarvis_worker() -> None:
    cmds = [rest for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "no CMD"
    assert json.loads(cmds[-1]) == ["jarvis", "worker"]
    assert not [k for k, _ in dockerfile_instructions() if k == "ENTRYPOINT"]


def test_dockerfile_base_install_and_user() -> None:
    instructions = dockerfile_instructions()
    assert [rest for k, rest in instructions if k == "FROM"] == ["python:3.11-slim"]
    assert any(k == "RUN" and "pip install ." in rest for k, rest in instructions)
    users = [rest for k, rest in instructions if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_dockerignore_keeps_the_package_and_drops_local_state() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    for needed in ("pyproject.toml", "planner", "agents", "activities", "evals", "README.md"):
        assert needed not in patterns and f"/{needed}" not in patterns, needed
    for dropped in (".git", ".venv", ".env"):
        assert dropped in patterns, dropped


def test_prometheus_scrapes_every_worker_on_its_metrics_port(
        services: dict[str, dict[str, Any]]) -> None:
    worker = env_of(services["worker"])
    assert worker["JARVIS_METRICS_HOST"] == "0.0.0.0", "a scrape from another container"
    config = yaml.safe_load(host_path(services["prometheus"],
                                      "/etc/prometheus/prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "jarvis-worker"]
    [sd] = job["dns_sd_configs"]
    assert sd["names"] == ["worker"] and sd["port"] == int(worker["JARVIS_METRICS_PORT"] or 0)
    rules = [PurePosixPath(r) for r in config["rule_files"]]
    assert all(host_path(services["prometheus"], str(r)).is_file() for r in rules)


def test_grafana_loads_the_dashboard_from_the_prometheus_service(
        services: dict[str, dict[str, Any]]) -> None:
    grafana = services["grafana"]
    sources = yaml.safe_load(host_path(
        grafana, "/etc/grafana/provisioning/datasources/prometheus.yml").read_text())
    [source] = sources["datasources"]
    assert source["url"] == "http://prometheus:9090" and 9090 in container_ports(
        services["prometheus"])
    providers = yaml.safe_load(host_path(
        grafana, "/etc/grafana/provisioning/dashboards/jarvis.yml").read_text())
    folder = providers["providers"][0]["options"]["path"]
    dashboard = json.loads(host_path(grafana, f"{folder}/jarvis-dashboard.json").read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    assert uids == {source["uid"]}
