"""Settings loading: files, ${VAR} expansion, tenant files, env overrides, *_FILE secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.errors import ConfigError
from adapter.settings import DispatchSettings, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]

TENANT_BODY = """\
name = "Modum kommune"
organization_number = "864965962"
profile = "modum"

[samspill]
token_url = "https://connect.example.test/connect/token"
base_url = "https://samspill.example.test/api/v1"
client_id = "stafett-modum"
tenant_id = "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01"

[archive]
base_url = "https://p360.example.test"

[feed]
url = "https://bti.example.test/internal/v1"
"""


def inline_tenant(key: str = "modum", body: str = TENANT_BODY) -> str:
    """`body` (a tenant file) rewritten as inline `[tenants.<key>]` tables."""
    lines = []
    for line in body.splitlines():
        if line.startswith("["):
            line = f"[tenants.{key}.{line[1:]}"
        lines.append(line)
    return f"[tenants.{key}]\n" + "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    """Write `text` to `path` (creating parents) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_file_gets_documented_defaults(tmp_path: Path) -> None:
    """A file with one tenant and nothing else yields the documented defaults."""
    settings = load_settings(write(tmp_path / "s.toml", inline_tenant()), environ={})
    assert settings.database_url == "sqlite+aiosqlite:///var/stafett.db"
    assert settings.dispatch == DispatchSettings()
    assert settings.dispatch.concurrency == 16
    assert settings.scheduler.poll_interval_s == 30
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.log.format == "console"
    tenant = settings.tenants["modum"]
    assert tenant.key == "modum"
    assert (tenant.follow_up_days, tenant.referral_follow_up_days) == (28, 42)
    assert tenant.self_consent_age == 15
    assert tenant.accept_synthetic_nin is False
    assert tenant.samspill.scope == "vfsapi:samspill"
    assert len(tenant.samspill.access_areas) == 5
    assert tenant.archive.permanent_error_patterns == ("^Validation:",)


def test_file_values_are_read(tmp_path: Path) -> None:
    """Values in the TOML file replace the defaults."""
    text = 'database_url = "sqlite+aiosqlite:///x.db"\n[dispatch]\nconcurrency = 4\n'
    settings = load_settings(write(tmp_path / "s.toml", text + inline_tenant()), environ={})
    assert settings.database_url == "sqlite+aiosqlite:///x.db"
    assert settings.dispatch.concurrency == 4


def test_settings_are_frozen(tmp_path: Path) -> None:
    """Settings cannot be changed after loading."""
    settings = load_settings(write(tmp_path / "s.toml", inline_tenant()), environ={})
    with pytest.raises(ValueError, match="frozen"):
        settings.database_url = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "sqlite+aiosqlite:///default.db"),
        ({"DB_FILE": ""}, "sqlite+aiosqlite:///default.db"),
        ({"DB_FILE": "chosen.db"}, "sqlite+aiosqlite:///chosen.db"),
    ],
)
def test_var_with_default_is_expanded(
    tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    """`${VAR:-default}` takes VAR when set and non-empty, else the default."""
    text = 'database_url = "sqlite+aiosqlite:///${DB_FILE:-default.db}"\n' + inline_tenant()
    settings = load_settings(write(tmp_path / "s.toml", text), environ=environ)
    assert settings.database_url == expected


def test_var_expansion_reaches_nested_tables_and_arrays(tmp_path: Path) -> None:
    """`${VAR}` is expanded inside tenant tables and inside arrays."""
    body = TENANT_BODY.replace("https://bti.example.test", "${FEED}") + (
        'document_origins = ["${ORIGIN}"]\n'
    )
    path = write(tmp_path / "s.toml", inline_tenant(body=body))
    environ = {"FEED": "http://feed.test:81", "ORIGIN": "https://feed.test"}
    settings = load_settings(path, environ=environ)
    assert settings.tenants["modum"].feed.url == "http://feed.test:81/internal/v1"
    assert settings.tenants["modum"].feed.document_origins == ("https://feed.test:443",)


def test_document_hosts_are_read_as_origins_on_the_default_ports(tmp_path: Path) -> None:
    """The old `document_hosts` still works for one release, as origins on the default
    ports (a `host:port` entry keeps its port), and is named as deprecated."""
    body = TENANT_BODY + 'document_hosts = ["a.test", "b.test:8080"]\n'
    feed = load_settings(write(tmp_path / "s.toml", inline_tenant(body=body))).tenants["modum"].feed
    assert feed.document_origins == (
        "http://a.test:80",
        "https://a.test:443",
        "http://b.test:8080",
        "https://b.test:8080",
    )
    assert feed.deprecated and "document_origins" in feed.deprecated[0]


@pytest.mark.parametrize(
    "origin", ["https://u:p@a.test", "https://a.test/docs", "ftp://a.test", "https://a.test:x"]
)
def test_a_document_origin_with_credentials_path_or_other_scheme_is_refused(
    tmp_path: Path, origin: str
) -> None:
    """An origin is scheme://host[:port] and nothing else; the error names the field."""
    body = TENANT_BODY + f'document_origins = ["{origin}"]\n'
    with pytest.raises(ConfigError, match="document_origins"):
        load_settings(write(tmp_path / "s.toml", inline_tenant(body=body)))


def test_unset_var_without_default_names_file_key_and_variable(tmp_path: Path) -> None:
    """`${VAR}` with VAR unset is a ConfigError naming the file, the key and VAR."""
    path = write(tmp_path / "s.toml", 'database_url = "${NO_SUCH_VAR}"\n' + inline_tenant())
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.source == str(path)
    assert caught.value.key == "database_url"
    assert "NO_SUCH_VAR" in str(caught.value)


def test_tenants_dir_loads_one_tenant_per_file(tmp_path: Path) -> None:
    """Each *.toml in tenants_dir (relative to the main file) is a tenant keyed by its stem."""
    main = write(tmp_path / "conf" / "stafett.toml", 'tenants_dir = "tenants"\n')
    write(tmp_path / "conf" / "tenants" / "modum.toml", TENANT_BODY)
    vardo = TENANT_BODY.replace('"modum"', '"vardo"').replace("864965962", "944588132")
    write(tmp_path / "conf" / "tenants" / "vardo.toml", vardo)
    settings = load_settings(main, environ={})
    assert sorted(settings.tenants) == ["modum", "vardo"]
    assert settings.tenants["vardo"].key == "vardo"
    assert settings.tenants["vardo"].organization_number == "944588132"


def test_inline_and_file_tenants_combine(tmp_path: Path) -> None:
    """Inline [tenants.x] tables and tenants_dir files are used together."""
    main = write(tmp_path / "s.toml", 'tenants_dir = "t"\n' + inline_tenant("inline-one"))
    write(tmp_path / "t" / "modum.toml", TENANT_BODY)
    assert sorted(load_settings(main, environ={}).tenants) == ["inline-one", "modum"]


def test_tenant_defined_twice_is_an_error(tmp_path: Path) -> None:
    """A tenant both inline and as a file is a ConfigError naming the tenant file."""
    main = write(tmp_path / "s.toml", 'tenants_dir = "t"\n' + inline_tenant("modum"))
    file = write(tmp_path / "t" / "modum.toml", TENANT_BODY)
    with pytest.raises(ConfigError) as caught:
        load_settings(main, environ={})
    assert (caught.value.source, caught.value.key) == (str(file), "tenants.modum")


def test_missing_tenants_dir_is_an_error(tmp_path: Path) -> None:
    """A tenants_dir that does not exist is a ConfigError on that key."""
    main = write(tmp_path / "s.toml", 'tenants_dir = "nowhere"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(main, environ={})
    assert caught.value.key == "tenants_dir"


def test_no_tenants_is_an_error(tmp_path: Path) -> None:
    """A configuration without any tenant is a ConfigError on `tenants`."""
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path / "s.toml", "[dispatch]\nconcurrency = 2\n"), environ={})
    assert caught.value.key == "tenants"


def test_error_in_tenant_file_names_that_file(tmp_path: Path) -> None:
    """A bad value in a tenant file is reported against the tenant file, not the main file."""
    main = write(tmp_path / "s.toml", 'tenants_dir = "t"\n')
    file = write(tmp_path / "t" / "modum.toml", TENANT_BODY.replace("864965962", "864965963"))
    with pytest.raises(ConfigError) as caught:
        load_settings(main, environ={})
    assert caught.value.source == str(file)
    assert caught.value.key == "tenants.modum.organization_number"


def test_missing_file_and_bad_toml_are_config_errors(tmp_path: Path) -> None:
    """A missing file and a file that is not TOML are ConfigErrors naming the file."""
    with pytest.raises(ConfigError, match="not found") as missing:
        load_settings(tmp_path / "absent.toml", environ={})
    assert missing.value.source == str(tmp_path / "absent.toml")
    bad = write(tmp_path / "bad.toml", "this is = = not toml\n")
    with pytest.raises(ConfigError, match="not valid TOML") as broken:
        load_settings(bad, environ={})
    assert broken.value.source == str(bad)


def test_env_beats_file_including_nested_keys(tmp_path: Path) -> None:
    """STAFETT_A__B overrides [a] b from the file, also inside a tenant."""
    text = "[dispatch]\nconcurrency = 4\n" + inline_tenant()
    environ = {
        "STAFETT_DISPATCH__CONCURRENCY": "32",
        "STAFETT_TENANTS__MODUM__SAMSPILL__CLIENT_SECRET": "s3cret-from-env",
        "STAFETT_TENANTS__MODUM__SELF_CONSENT_AGE": "16",
        "STAFETT_TENANTS__MODUM__FEED__DOCUMENT_ORIGINS": '["https://a.test", "http://b.test:81"]',
    }
    settings = load_settings(write(tmp_path / "s.toml", text), environ=environ)
    assert settings.dispatch.concurrency == 32
    tenant = settings.tenants["modum"]
    assert tenant.samspill.client_secret is not None
    assert tenant.samspill.client_secret.get_secret_value() == "s3cret-from-env"
    assert tenant.self_consent_age == 16
    assert tenant.feed.document_origins == ("https://a.test:443", "http://b.test:81")
    assert tenant.name == "Modum kommune"  # the rest of the file's tenant is kept


def test_database_url_from_env(tmp_path: Path) -> None:
    """STAFETT_DATABASE_URL sets database_url over the file."""
    text = 'database_url = "sqlite+aiosqlite:///file.db"\n' + inline_tenant()
    url = "postgresql+asyncpg://stafett@db.test/stafett"
    settings = load_settings(
        write(tmp_path / "s.toml", text), environ={"STAFETT_DATABASE_URL": url}
    )
    assert settings.database_url == url


def test_process_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `environ`, os.environ is read: STAFETT_CONFIG picks the file, overrides apply."""
    path = write(tmp_path / "elsewhere.toml", inline_tenant())
    monkeypatch.setenv("STAFETT_CONFIG", str(path))
    monkeypatch.setenv("STAFETT_HTTP__PORT", "9191")
    assert load_settings().http.port == 9191


def test_unknown_env_setting_is_an_error_naming_the_variable(tmp_path: Path) -> None:
    """A misspelt STAFETT_ section key is a ConfigError naming the variable."""
    path = write(tmp_path / "s.toml", inline_tenant())
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"STAFETT_DISPATCH__CONCURENCY": "3"})
    assert caught.value.source == "env STAFETT_DISPATCH__CONCURENCY"
    assert caught.value.key == "dispatch.concurency"


def test_env_error_names_the_variable_not_the_file(tmp_path: Path) -> None:
    """A bad value from the environment is reported against that variable."""
    path = write(tmp_path / "s.toml", inline_tenant())
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"STAFETT_TENANTS__MODUM__ORGANIZATION_NUMBER": "123"})
    assert caught.value.source == "env STAFETT_TENANTS__MODUM__ORGANIZATION_NUMBER"


def test_secret_from_file_in_toml_relative_to_that_file(tmp_path: Path) -> None:
    """`<secret>_file` in TOML reads the (stripped) file, relative to the TOML file."""
    write(tmp_path / "secrets" / "p360", "  key-from-file \n")
    body = TENANT_BODY.replace("[archive]\n", '[archive]\nkey_file = "secrets/p360"\n')
    settings = load_settings(write(tmp_path / "s.toml", inline_tenant(body=body)), environ={})
    key = settings.tenants["modum"].archive.key
    assert key is not None and key.get_secret_value() == "key-from-file"


def test_secret_from_file_in_env(tmp_path: Path) -> None:
    """`..._FILE` in the environment reads the secret from that path."""
    secret = write(tmp_path / "run" / "feed", "feed-key-from-file\n")
    environ = {"STAFETT_TENANTS__MODUM__FEED__API_KEY_FILE": str(secret)}
    settings = load_settings(write(tmp_path / "s.toml", inline_tenant()), environ=environ)
    api_key = settings.tenants["modum"].feed.api_key
    assert api_key is not None and api_key.get_secret_value() == "feed-key-from-file"


def test_env_secret_beats_file_secret_file(tmp_path: Path) -> None:
    """An env secret replaces a secret file named in TOML (env beats files)."""
    write(tmp_path / "p360", "from-toml-file")
    body = TENANT_BODY.replace("[archive]\n", '[archive]\nkey_file = "p360"\n')
    environ = {"STAFETT_TENANTS__MODUM__ARCHIVE__KEY": "from-env"}
    settings = load_settings(write(tmp_path / "s.toml", inline_tenant(body=body)), environ=environ)
    key = settings.tenants["modum"].archive.key
    assert key is not None and key.get_secret_value() == "from-env"


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    """A `_FILE` pointing nowhere is a ConfigError naming the variable and key."""
    environ = {"STAFETT_TENANTS__MODUM__PUSH_TOKEN_FILE": str(tmp_path / "absent")}
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path / "s.toml", inline_tenant()), environ=environ)
    assert caught.value.source == "env STAFETT_TENANTS__MODUM__PUSH_TOKEN_FILE"
    assert caught.value.key == "tenants.modum.push_token_file"


def test_secret_and_secret_file_together_is_an_error(tmp_path: Path) -> None:
    """Giving both `key` and `key_file` in one file is ambiguous and refused."""
    write(tmp_path / "p360", "a")
    body = TENANT_BODY.replace("[archive]\n", '[archive]\nkey = "b"\nkey_file = "p360"\n')
    with pytest.raises(ConfigError, match="not both"):
        load_settings(write(tmp_path / "s.toml", inline_tenant(body=body)), environ={})


def test_demo_config_loads_with_mock_url_unset_and_set() -> None:
    """config/demo.toml is complete: every remote follows STAFETT_MOCK_URL, no secret missing."""
    demo = REPO / "config" / "demo.toml"
    for mock_url in (None, "http://mock.test:9999"):
        environ = {} if mock_url is None else {"STAFETT_MOCK_URL": mock_url}
        base = mock_url or "http://127.0.0.1:8900"
        settings = load_settings(demo, environ=environ)
        assert sorted(settings.tenants) == ["modum", "vardo"]
        for tenant in settings.tenants.values():
            assert tenant.missing_secrets() == []
            assert tenant.accept_synthetic_nin is True
            assert tenant.samspill.token_url == f"{base}/connect/token"
            assert tenant.samspill.base_url == f"{base}/samspill/api/v1"
            assert tenant.archive.base_url == base
            assert tenant.feed.url == f"{base}/internal/v1"
        assert settings.database_url == "sqlite+aiosqlite:///var/demo.db"


def test_demo_credentials_are_the_mocks() -> None:
    """demo.toml carries the literals the mock registers at start-up (contract with the mock)."""
    settings = load_settings(REPO / "config" / "demo.toml", environ={})
    modum, vardo = settings.tenants["modum"], settings.tenants["vardo"]
    assert modum.samspill.client_id == "stafett-modum"
    assert modum.samspill.client_secret is not None
    assert modum.samspill.client_secret.get_secret_value() == "modum-demo-secret"
    assert str(modum.samspill.tenant_id) == "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01"
    assert (modum.archive.auth, modum.archive.client_id) == ("authorization", "stafett")
    assert vardo.archive.auth == "query"
    assert vardo.archive.key is not None
    assert vardo.archive.key.get_secret_value() == "vardo-p360-demo-key"
    assert vardo.push_token is not None
    assert vardo.push_token.get_secret_value() == "vardo-push-demo-token"


def test_shipped_production_config_loads_without_secrets() -> None:
    """config/stafett.toml with its tenant files loads; only secrets are missing."""
    settings = load_settings(REPO / "config" / "stafett.toml", environ={})
    assert isinstance(settings, Settings)
    assert {k: t.organization_number for k, t in settings.tenants.items()} == {
        "modum": "864965962",
        "vardo": "944588132",
    }
    for tenant in settings.tenants.values():
        assert tenant.profile == tenant.key
        assert tenant.accept_synthetic_nin is False
        assert "archive.key" in tenant.missing_secrets()
    assert settings.tenants["modum"].archive.auth == "authorization"
    assert settings.tenants["vardo"].archive.auth == "query"


def test_a_deprecated_document_hosts_is_logged_naming_tenant_and_setting(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Loading settings that still use `document_hosts` warns once per tenant."""
    body = TENANT_BODY + 'document_hosts = ["a.test"]\n'
    with caplog.at_level("WARNING", logger="adapter.settings.loader"):
        load_settings(write(tmp_path / "s.toml", inline_tenant(body=body)))
    [record] = [r for r in caplog.records if "deprecated" in r.getMessage()]
    assert "modum" in record.getMessage() and "document_hosts" in record.getMessage()
