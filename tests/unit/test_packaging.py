"""What an operator relies on when running the image and compose (no Docker engine here:
the files are read and their facts checked), and that installs come from the lock file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
LOCK = ROOT / "requirements.lock"


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    return services


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_the_base_image_is_pinned_by_version_and_digest() -> None:
    """`FROM python:3.11.<patch>-slim-bookworm@sha256:<64 hex>`: no floating tag."""
    froms = [arg for op, arg in _instructions() if op == "FROM"]
    assert len(froms) == 1
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", froms[0])


def test_the_image_has_a_healthcheck_against_healthz() -> None:
    """A HEALTHCHECK with a timeout that asks the adapter's /healthz."""
    [check] = [arg for op, arg in _instructions() if op == "HEALTHCHECK"]
    assert "--timeout=" in check and "/healthz" in check
    assert "CMD" in check


def test_the_image_installs_from_the_lock_with_hashes_then_stafett_without_deps() -> None:
    """Dependencies come from requirements.lock, hash-checked; stafett itself adds none."""
    runs = [arg for op, arg in _instructions() if op == "RUN" and "pip install" in arg]
    assert runs[0] == "pip install --require-hashes -r requirements.lock"
    assert runs[1] == "pip install --no-deps ."
    copies = [arg for op, arg in _instructions() if op == "COPY"]
    assert "requirements.lock ./" in copies


@pytest.mark.parametrize("name", ["mock", "adapter", "adapter-postgres", "postgres"])
def test_long_running_services_restart_unless_stopped(name: str) -> None:
    """A crash or a host reboot brings the service back; an operator's stop is kept."""
    assert _services()[name]["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", ["adapter", "adapter-postgres"])
def test_compose_healthchecks_use_readiness(name: str) -> None:
    """Compose's health of an adapter is /readyz (store reachable, migrated), not /healthz."""
    check = " ".join(_services()[name]["healthcheck"]["test"])
    assert "/readyz" in check and "/healthz" not in check


def test_postgres_is_not_published_and_has_no_fixed_password() -> None:
    """PostgreSQL has no host port; its password comes from the environment (.env), the
    same variable in every URL that reaches it; `.env.example` documents it, `.env` is
    never committed or copied into the image."""
    services = _services()
    postgres = services["postgres"]
    assert "ports" not in postgres
    assert postgres["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-}"
    for name in ("migrate", "adapter-postgres"):
        url = services[name]["environment"]["STAFETT_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://stafett:${POSTGRES_PASSWORD:-}@postgres:")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.MULTILINE)
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()


def test_the_postgres_profile_runs_the_adapter_on_postgresql() -> None:
    """Under the `postgres` profile an adapter runs on PostgreSQL (after `migrate`); the
    default adapter stays on SQLite and is the same service otherwise."""
    services = _services()
    default, on_pg = services["adapter"], services["adapter-postgres"]
    assert "profiles" not in default
    assert default["environment"]["STAFETT_DATABASE_URL"].startswith("sqlite+aiosqlite:")
    assert on_pg["profiles"] == ["postgres"]
    assert on_pg["environment"]["STAFETT_DATABASE_URL"].startswith("postgresql+asyncpg:")
    assert on_pg["command"] == default["command"]
    same = ("image", "ports", "healthcheck", "restart")
    assert {k: on_pg[k] for k in same} == {k: default[k] for k in same}


def _locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", LOCK.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    names = [*project["dependencies"], *extras["test"], *extras["postgres"]]
    return [
        re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", n, maxsplit=1)[0]).lower() for n in names
    ]


def test_the_lock_pins_every_declared_dependency_with_hashes_and_no_index() -> None:
    """Every dependency of pyproject.toml (runtime, test, postgres) is pinned in the lock,
    every pin carries a hash, and no index URL or local path is written into it."""
    text = LOCK.read_text(encoding="utf-8")
    locked = _locked()
    assert [name for name in _declared() if name not in locked] == []
    assert text.count("==") == len(locked)
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)
    assert not re.search(r"--(extra-)?index-url|--find-links|file://|/opt/", text)


def test_the_makefile_installs_from_the_lock_then_the_project_without_deps() -> None:
    """`make install` (behind `make demo` and `make test`): the lock, then `-e .` alone."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    stamp = makefile.split("$(STAMP): pyproject.toml $(LOCK)\n", 1)[1].split("\n\n", 1)[0]
    assert "pip install --quiet --require-hashes -r $(LOCK)" in stamp
    assert "pip install --quiet --no-deps -e ." in stamp
    assert "LOCK := requirements.lock" in makefile
