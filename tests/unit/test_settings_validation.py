"""Settings validation: every rule of TenantConfig and the sections, reported as ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.errors import ConfigError
from adapter.profiles import PROFILES
from adapter.settings import TenantConfig, load_settings
from tests.unit.test_settings_loading import TENANT_BODY, inline_tenant, write


def load_tenant(tmp_path: Path, body: str, environ: dict[str, str] | None = None) -> TenantConfig:
    """Load a config with one inline tenant `modum` made of `body`; return that tenant."""
    path = write(tmp_path / "s.toml", inline_tenant(body=body))
    return load_settings(path, environ=environ or {}).tenants["modum"]


def config_error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    """The ConfigError that loading `text` as the main file raises."""
    path = write(tmp_path / "s.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ or {})
    return caught.value


def test_bad_org_number_names_file_and_key(tmp_path: Path) -> None:
    """An organisation number failing mod-11 is a ConfigError naming the file and the key."""
    body = TENANT_BODY.replace("864965962", "864965963")
    error = config_error(tmp_path, inline_tenant(body=body))
    assert error.source == str(tmp_path / "s.toml")
    assert error.key == "tenants.modum.organization_number"
    assert "organisation number" in str(error)


def test_org_number_as_toml_integer_is_accepted(tmp_path: Path) -> None:
    """An organisation number written as a TOML integer is read as its 9 digits."""
    tenant = load_tenant(tmp_path, TENANT_BODY.replace('"864965962"', "864965962"))
    assert tenant.organization_number == "864965962"


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    """A profile that does not exist is a ConfigError naming the known profiles."""
    error = config_error(tmp_path, inline_tenant(body=TENANT_BODY.replace('"modum"', '"oslo"')))
    assert error.key == "tenants.modum.profile"
    for known in PROFILES:
        assert known in str(error)


def test_create_plan_at_must_be_a_step_of_the_profile(tmp_path: Path) -> None:
    """create_plan_at outside the profile's steps is a ConfigError on that key."""
    body = TENANT_BODY.replace('profile = "modum"', 'profile = "modum"\ncreate_plan_at = [2, 9]')
    error = config_error(tmp_path, inline_tenant(body=body))
    assert error.key == "tenants.modum.create_plan_at"


def test_plan_step_is_the_tenants_or_else_the_profiles(tmp_path: Path) -> None:
    """plan_step is create_plan_at when given, else the profile's create_plan_at."""
    default = load_tenant(tmp_path, TENANT_BODY)
    assert default.plan_step == PROFILES["modum"].create_plan_at
    assert default.profile_obj is PROFILES["modum"]
    body = TENANT_BODY.replace('profile = "modum"', 'profile = "modum"\ncreate_plan_at = [2, 3]')
    assert load_tenant(tmp_path, body).plan_step == (2, 3)


def test_bad_regex_is_rejected(tmp_path: Path) -> None:
    """A permanent_error_patterns entry that does not compile is a ConfigError on that key."""
    body = TENANT_BODY.replace(
        "[archive]\n", '[archive]\npermanent_error_patterns = ["^Validation:", "([unclosed"]\n'
    )
    error = config_error(tmp_path, inline_tenant(body=body))
    assert error.key == "tenants.modum.archive.permanent_error_patterns"
    assert "pattern 1" in str(error)


def test_permanent_error_patterns_classify_messages(tmp_path: Path) -> None:
    """is_permanent_error matches the tenant's patterns (default: `^Validation:`)."""
    archive = load_tenant(tmp_path, TENANT_BODY).archive
    assert archive.is_permanent_error("Validation: CaseNumber is unknown")
    assert not archive.is_permanent_error("Error: database busy")


@pytest.mark.parametrize("age", [11, 19])
def test_self_consent_age_is_between_12_and_18(tmp_path: Path, age: int) -> None:
    """self_consent_age outside 12..18 is refused."""
    body = TENANT_BODY.replace('profile = "modum"', f'profile = "modum"\nself_consent_age = {age}')
    assert config_error(tmp_path, inline_tenant(body=body)).key == "tenants.modum.self_consent_age"


def test_p360_needs_a_base_url(tmp_path: Path) -> None:
    """backend p360 without base_url is a ConfigError on the archive table."""
    body = TENANT_BODY.replace('base_url = "https://p360.example.test"\n', "")
    error = config_error(tmp_path, inline_tenant(body=body))
    assert error.key == "tenants.modum.archive"
    assert "base_url" in str(error)


def test_archive_none_needs_nothing(tmp_path: Path) -> None:
    """backend none needs neither base_url nor key."""
    body = TENANT_BODY.replace('base_url = "https://p360.example.test"', 'backend = "none"')
    assert load_tenant(tmp_path, body).missing_secrets() == [
        "samspill.client_secret",
        "feed.api_key",
    ]


def test_enabled_feed_needs_a_url(tmp_path: Path) -> None:
    """An enabled feed without url is refused; a disabled one is fine."""
    body = TENANT_BODY.replace('url = "https://bti.example.test/internal/v1"', "")
    assert config_error(tmp_path, inline_tenant(body=body)).key == "tenants.modum.feed"
    disabled = load_tenant(tmp_path, body.replace("[feed]\n", "[feed]\nenabled = false\n"))
    assert "feed.api_key" not in disabled.missing_secrets()


def test_urls_must_be_absolute_http(tmp_path: Path) -> None:
    """A URL without scheme and host is refused; a trailing slash is dropped."""
    body = TENANT_BODY.replace("https://samspill.example.test/api/v1", "samspill/api/v1")
    assert config_error(tmp_path, inline_tenant(body=body)).key == "tenants.modum.samspill.base_url"
    slashed = TENANT_BODY.replace("https://p360.example.test", "https://p360.example.test/")
    assert load_tenant(tmp_path, slashed).archive.base_url == "https://p360.example.test"


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    """A misspelt key in a tenant table is a ConfigError naming it."""
    body = TENANT_BODY.replace("[feed]\n", "[feed]\npagesize = 10\n")
    assert config_error(tmp_path, inline_tenant(body=body)).key == "tenants.modum.feed.pagesize"


def test_tenant_key_must_be_lowercase_letters_digits_dash(tmp_path: Path) -> None:
    """A tenant key outside [a-z0-9-]+ is refused."""
    assert config_error(tmp_path, inline_tenant("Modum_1")).key == "tenants.Modum_1.key"


def test_access_areas_narrow_to_known_values(tmp_path: Path) -> None:
    """access_areas accepts a subset of the five Samspill areas and refuses others."""
    narrowed = TENANT_BODY.replace("[samspill]\n", '[samspill]\naccess_areas = ["kalender"]\n')
    assert [a.value for a in load_tenant(tmp_path, narrowed).samspill.access_areas] == ["kalender"]
    bad = TENANT_BODY.replace("[samspill]\n", '[samspill]\naccess_areas = ["alt"]\n')
    key = config_error(tmp_path, inline_tenant(body=bad)).key
    assert key is not None and key.startswith("tenants.modum.samspill.access_areas")


def test_missing_secrets_lists_what_enabled_remotes_need(tmp_path: Path) -> None:
    """missing_secrets names each absent secret of an enabled remote, and only those."""
    assert load_tenant(tmp_path, TENANT_BODY).missing_secrets() == [
        "samspill.client_secret",
        "archive.key",
        "feed.api_key",
    ]
    environ = {
        "STAFETT_TENANTS__MODUM__SAMSPILL__CLIENT_SECRET": "a",
        "STAFETT_TENANTS__MODUM__ARCHIVE__KEY": "b",
    }
    assert load_tenant(tmp_path, TENANT_BODY, environ).missing_secrets() == ["feed.api_key"]


def test_empty_secret_counts_as_missing(tmp_path: Path) -> None:
    """An empty secret variable is the same as none."""
    environ = {"STAFETT_TENANTS__MODUM__FEED__API_KEY": ""}
    assert "feed.api_key" in load_tenant(tmp_path, TENANT_BODY, environ).missing_secrets()


def test_config_error_never_contains_a_secret_value(tmp_path: Path) -> None:
    """A secret of the wrong type is reported by key without echoing the value."""
    body = TENANT_BODY.replace("[archive]\n", '[archive]\nkey = ["hunter2-secret"]\n')
    error = config_error(tmp_path, inline_tenant(body=body))
    assert error.key == "tenants.modum.archive.key"
    assert "hunter2" not in str(error)


def test_backoff_max_not_below_base(tmp_path: Path) -> None:
    """dispatch.backoff_max_s below backoff_base_s is refused."""
    text = "[dispatch]\nbackoff_base_s = 10.0\nbackoff_max_s = 5.0\n" + inline_tenant()
    assert config_error(tmp_path, text).key == "dispatch"


def test_ca_bundle_must_exist(tmp_path: Path) -> None:
    """http.ca_bundle pointing at no file is refused."""
    text = f'[http]\nca_bundle = "{tmp_path / "none.pem"}"\n' + inline_tenant()
    assert config_error(tmp_path, text).key == "http.ca_bundle"


def test_log_level_is_normalised_and_checked(tmp_path: Path) -> None:
    """log.level is upper-cased and must be a logging level."""
    ok = load_settings(
        write(tmp_path / "s.toml", '[log]\nlevel = "debug"\n' + inline_tenant()), environ={}
    )
    assert ok.log.level == "DEBUG"
    assert config_error(tmp_path, '[log]\nlevel = "loud"\n' + inline_tenant()).key == "log.level"
