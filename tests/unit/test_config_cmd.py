"""`stafett config check`: exit codes, masked output, missing secrets, and `--probe`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.cli.config_cmd import MASK, SIF_PING_PATH, ProbeStatus, Remote, probe_tenant
from adapter.settings import TenantConfig, load_settings
from tests.unit.test_settings_loading import REPO, TENANT_BODY, inline_tenant, write

SECRETS = {
    "STAFETT_TENANTS__MODUM__SAMSPILL__CLIENT_SECRET": "samspill-s3cret-value",
    "STAFETT_TENANTS__MODUM__ARCHIVE__KEY": "p360-s3cret-value",
    "STAFETT_TENANTS__MODUM__FEED__API_KEY": "feed-s3cret-value",
    "STAFETT_TENANTS__MODUM__PUSH_TOKEN": "push-s3cret-value",
}


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Invoke the CLI in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, args, env=env or {}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def config(tmp_path: Path, body: str = TENANT_BODY) -> Path:
    """A main config file with one inline tenant `modum`."""
    return write(tmp_path / "stafett.toml", inline_tenant(body=body))


def test_valid_config_exits_0_with_secrets_masked(tmp_path: Path) -> None:
    """With every secret set, the effective config prints with each secret as the mask."""
    code, out, err = run(["--config", str(config(tmp_path)), "config", "check"], SECRETS)
    assert code == 0, err
    assert MASK in out
    assert "Modum kommune" in out
    for secret in SECRETS.values():
        assert secret not in out + err


def test_json_output_masks_every_secret(tmp_path: Path) -> None:
    """`--json` is one object; each present secret is the mask, never the value or its length."""
    code, out, _ = run(["--config", str(config(tmp_path)), "config", "check", "--json"], SECRETS)
    assert code == 0
    data = json.loads(out)
    assert data["valid"] is True
    tenant = data["settings"]["tenants"]["modum"]
    masked = [
        tenant["samspill"]["client_secret"],
        tenant["archive"]["key"],
        tenant["feed"]["api_key"],
        tenant["push_token"],
    ]
    assert masked == [MASK] * 4
    for secret in SECRETS.values():
        assert secret not in out
    assert data["settings"]["dispatch"]["concurrency"] == 16


def test_missing_secret_exits_2_naming_the_key(tmp_path: Path) -> None:
    """A secret an enabled remote needs but lacks is an error: exit 2, key named on stderr."""
    path = config(tmp_path)
    env = {k: v for k, v in SECRETS.items() if "ARCHIVE" not in k}
    code, _, err = run(["--config", str(path), "config", "check"], env)
    assert code == 2
    assert f"{path}: tenants.modum.archive.key: missing secret" in err
    assert "STAFETT_TENANTS__MODUM__ARCHIVE__KEY_FILE" in err
    assert "client_secret" not in err


def test_missing_secret_in_json_is_listed(tmp_path: Path) -> None:
    """With --json, missing secrets are errors in the object and valid is false."""
    code, out, _ = run(["--config", str(config(tmp_path)), "config", "check", "--json"])
    assert code == 2
    data = json.loads(out)
    assert data["valid"] is False
    assert [e["key"] for e in data["errors"]] == [
        "tenants.modum.samspill.client_secret",
        "tenants.modum.archive.key",
        "tenants.modum.feed.api_key",
    ]


def test_config_error_exits_2_with_file_key_message(tmp_path: Path) -> None:
    """A ConfigError exits 2 with `file: key: message` on stderr."""
    path = config(tmp_path, TENANT_BODY.replace("864965962", "864965963"))
    code, _, err = run(["--config", str(path), "config", "check"], SECRETS)
    assert code == 2
    assert f"{path}: tenants.modum.organization_number: not a valid organisation number" in err


def test_config_error_in_json(tmp_path: Path) -> None:
    """With --json a ConfigError is an object with source, key and message."""
    path = config(tmp_path, TENANT_BODY.replace('"modum"', '"nowhere"'))
    code, out, _ = run(["--config", str(path), "config", "check", "--json"], SECRETS)
    assert code == 2
    (error,) = json.loads(out)["errors"]
    assert (error["source"], error["key"]) == (str(path), "tenants.modum.profile")
    assert error["message"].startswith("unknown profile")


def test_shipped_config_reports_missing_secrets_as_a_subprocess() -> None:
    """`stafett --config config/stafett.toml config check` exits 2, naming each missing secret."""
    out = subprocess.run(
        [sys.executable, "-m", "adapter", "--config", "config/stafett.toml", "config", "check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert out.returncode == 2
    for tenant in ("modum", "vardo"):
        assert f"tenants.{tenant}.archive.key: missing secret" in out.stderr


def test_demo_config_is_valid() -> None:
    """config/demo.toml passes the check on its own (exit 0)."""
    code, _, err = run(["--config", str(REPO / "config" / "demo.toml"), "config", "check"])
    assert code == 0, err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_probe_failure_exits_1_without_leaking_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--probe against remotes that refuse connections reports `failed` and exits 1."""
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    base = f"http://127.0.0.1:{_closed_port()}"
    body = (
        TENANT_BODY.replace("https://connect.example.test", base)
        .replace("https://p360.example.test", base)
        .replace("https://bti.example.test", base)
    )
    args = ["--config", str(config(tmp_path, body)), "config", "check", "--probe", "--json"]
    code, out, err = run(args, SECRETS)
    assert code == 1
    probes = json.loads(out)["probes"]
    assert [(p["remote"], p["status"]) for p in probes] == [
        ("visma-connect", "failed"),
        ("archive", "failed"),
        ("feed", "failed"),
    ]
    for secret in SECRETS.values():
        assert secret not in out + err


def _tenant(tmp_path: Path, auth: str, environ: dict[str, str] | None = None) -> TenantConfig:
    body = TENANT_BODY.replace("[archive]\n", f'[archive]\nauth = "{auth}"\nclient_id = "cid"\n')
    settings = load_settings(
        config(tmp_path, body), environ=SECRETS if environ is None else environ
    )
    return settings.tenants["modum"]


class Recorder:
    """An httpx handler that records requests and answers like healthy remotes."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/connect/token"):
            return httpx.Response(self.status, json={"access_token": "t", "expires_in": 3600})
        if request.url.path.endswith(SIF_PING_PATH):
            return httpx.Response(self.status, json={"Successful": True})
        return httpx.Response(self.status, json={"events": [], "has_more": False})


@pytest.mark.parametrize(
    ("auth", "where"),
    [
        ("query", ("query", "authkey", "p360-s3cret-value")),
        ("authorization", ("header", "authorization", "authkey p360-s3cret-value")),
        ("header", ("header", "authkey", "p360-s3cret-value")),
    ],
)
async def test_probe_sends_the_contract_requests(
    tmp_path: Path, auth: str, where: tuple[str, str, str]
) -> None:
    """Token form POST, one Samspill read with that token, SIF Ping with the tenant's auth
    variant, feed GET with bearer key."""
    tenant = _tenant(tmp_path, auth)
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        results = await probe_tenant(client, tenant)
    assert [(r.remote, r.status) for r in results] == [
        (Remote.VISMA_CONNECT, ProbeStatus.OK),
        (Remote.ARCHIVE, ProbeStatus.OK),
        (Remote.FEED, ProbeStatus.OK),
    ]
    token, read, ping, feed = recorder.requests
    form = dict(httpx.QueryParams(token.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "stafett-modum",
        "client_secret": "samspill-s3cret-value",
        "scope": "vfsapi:samspill",
        "tenant_id": "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01",
    }
    assert (read.method, str(read.url)) == ("GET", "https://samspill.example.test/api/v1/plantypes")
    assert read.headers["authorization"] == "Bearer t"
    assert ping.method == "POST" and json.loads(ping.content) == {"parameter": {}}
    kind, name, value = where
    sent = ping.url.params if kind == "query" else ping.headers
    assert sent.get(name) == value
    if auth == "authorization":
        assert ping.headers.get("clientid") == "cid"
    assert feed.method == "GET"
    assert feed.url.path == "/internal/v1/events" and feed.url.params["limit"] == "1"
    assert feed.headers["authorization"] == "Bearer feed-s3cret-value"


async def test_probe_reports_http_status_only(tmp_path: Path) -> None:
    """A refused probe is `failed` with its HTTP status; no secret appears in any result."""
    tenant = _tenant(tmp_path, "query")
    async with httpx.AsyncClient(transport=httpx.MockTransport(Recorder(401))) as client:
        results = await probe_tenant(client, tenant)
    assert {(r.status, r.detail) for r in results} == {(ProbeStatus.FAILED, "HTTP 401")}
    for result in results:
        assert all(secret not in repr(result) for secret in SECRETS.values())


async def test_probe_skips_remotes_without_secret(tmp_path: Path) -> None:
    """A remote without its secret is skipped, not called."""
    tenant = _tenant(tmp_path, "query", environ={})
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        results = await probe_tenant(client, tenant)
    assert {r.status for r in results} == {ProbeStatus.SKIPPED}
    assert recorder.requests == []


async def test_sif_business_failure_on_ping_is_failed(tmp_path: Path) -> None:
    """A SIF Ping answering HTTP 200 with `Successful: false` counts as a failed probe."""
    tenant = _tenant(tmp_path, "header")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"Successful": False, "ErrorMessage": "Error: x"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        results = await probe_tenant(client, tenant)
    (archive,) = [r for r in results if r.remote is Remote.ARCHIVE]
    assert (archive.status, archive.detail) == (ProbeStatus.FAILED, "HTTP 200, Successful=false")


async def test_demo_config_probes_ok_against_the_in_process_mock() -> None:
    """demo.toml's credentials and URLs are the mock's: every probe of both tenants is ok."""
    from adapter.mock.app import create_app

    settings = load_settings(
        REPO / "config" / "demo.toml", environ={"STAFETT_MOCK_URL": "http://mock"}
    )
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        for tenant in settings.tenants.values():
            results = await probe_tenant(client, tenant)
            assert [(r.status, r.detail) for r in results] == [(ProbeStatus.OK, "HTTP 200")] * 3


DB_WITH_PASSWORD = {"STAFETT_DATABASE_URL": "postgresql+asyncpg://stafett:db-s3cret-pw@db:5432/x"}


def test_the_database_password_is_masked_in_the_tree_and_json(tmp_path: Path) -> None:
    """`config check` shows the database URL with its password as the mask, both outputs."""
    env = {**SECRETS, **DB_WITH_PASSWORD}
    path = str(config(tmp_path))
    code, tree, err = run(["--config", path, "config", "check"], env)
    assert code == 0, err
    assert "db-s3cret-pw" not in tree and f"stafett:{MASK}@db:5432/x" in tree
    code, out, _ = run(["--config", path, "config", "check", "--json"], env)
    assert code == 0
    url = json.loads(out)["settings"]["database_url"]
    assert url == f"postgresql+asyncpg://stafett:{MASK}@db:5432/x"


def test_the_database_password_is_masked_when_the_config_is_invalid(tmp_path: Path) -> None:
    """With a missing secret the settings are still shown, the password still masked."""
    code, out, _ = run(
        ["--config", str(config(tmp_path)), "config", "check", "--json"], DB_WITH_PASSWORD
    )
    assert code == 2
    assert "db-s3cret-pw" not in out


def test_a_missing_secret_names_the_tenant_file_and_key(tmp_path: Path) -> None:
    """A tenant from `tenants_dir` has its missing secrets reported against its own file."""
    main = write(tmp_path / "stafett.toml", 'tenants_dir = "tenants"\n')
    tenant_file = write(tmp_path / "tenants" / "modum.toml", TENANT_BODY)
    env = {k: v for k, v in SECRETS.items() if "ARCHIVE" not in k}
    code, _, err = run(["--config", str(main), "config", "check"], env)
    assert code == 2
    assert f"{tenant_file}: tenants.modum.archive.key: missing secret" in err
    assert "set archive.key or archive.key_file in the tenant's file" in err
    code, out, _ = run(["--config", str(main), "config", "check", "--json"], env)
    (error,) = json.loads(out)["errors"]
    assert (error["source"], error["key"]) == (str(tenant_file), "tenants.modum.archive.key")
