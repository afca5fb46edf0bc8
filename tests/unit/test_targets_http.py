"""Outcome classification, transport errors, Retry-After and client construction."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from adapter.errors import AmbiguousError, PermanentError, RemoteError, TransientError
from adapter.targets.http import (
    build_client,
    classify,
    parse_retry_after,
    problem_type,
    raise_for_outcome,
    transport_error,
)

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
URL = "https://samspill.example/api/v1/plans/p1/goals?key=secret-key"


def _response(
    status: int,
    method: str = "POST",
    *,
    headers: dict[str, str] | None = None,
    json: object = None,
) -> httpx.Response:
    request = httpx.Request(method, URL)
    return httpx.Response(status, headers=headers, json=json, request=request)


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_2xx_is_success(status: int) -> None:
    """Every 2xx classifies as no error and passes through raise_for_outcome."""
    response = _response(status)
    assert classify(response) is None
    assert raise_for_outcome(response) is response


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (408, "POST", TransientError),
        (429, "POST", TransientError),
        (500, "GET", TransientError),
        (502, "PUT", TransientError),
        (503, "PATCH", TransientError),
        (504, "DELETE", TransientError),
        (500, "POST", AmbiguousError),
        (503, "POST", AmbiguousError),
        (400, "POST", PermanentError),
        (401, "GET", PermanentError),
        (403, "GET", PermanentError),
        (404, "GET", PermanentError),
        (409, "POST", PermanentError),
        (422, "POST", PermanentError),
    ],
)
def test_status_classification(status: int, method: str, expected: type[RemoteError]) -> None:
    """Each status class maps to the error the contract gives it (5xx POST ambiguous)."""
    error = classify(_response(status, method), op_ref="stafett:modum:C1:goal:G1")
    assert type(error) is expected
    assert error is not None
    assert error.status == status
    assert error.op_ref == "stafett:modum:C1:goal:G1"
    assert error.endpoint == "/api/v1/plans/p1/goals"


def test_raise_for_outcome_raises_the_classified_error() -> None:
    """raise_for_outcome raises what classify returns."""
    with pytest.raises(AmbiguousError):
        raise_for_outcome(_response(502, "POST"))


def test_message_has_path_status_and_problem_slug_but_no_query_or_body() -> None:
    """Messages name method, path, status, problem type and fields — never query or values."""
    body = {
        "type": "https://problems.example/validation-error",
        "title": "Unprocessable",
        "status": 422,
        "detail": "Kari Nordmann 07838510072 is wrong",
        "errors": [{"field": "mainPerson.nin", "message": "07838510072 invalid"}],
    }
    error = classify(_response(422, json=body), op_ref="ref-1")
    text = str(error)
    assert "POST /api/v1/plans/p1/goals answered 422" in text
    assert "validation-error" in text
    assert "mainPerson.nin" in text
    assert "ref-1" in text
    for secret in ("secret-key", "07838510072", "Kari", "?"):
        assert secret not in text


def test_429_carries_retry_after_seconds() -> None:
    """A 429 with Retry-After in seconds gives that wait."""
    error = classify(_response(429, headers={"Retry-After": "7"}), now=NOW)
    assert isinstance(error, TransientError)
    assert error.retry_after == 7.0


def test_429_retry_after_is_capped() -> None:
    """A Retry-After beyond the cap is cut to the cap."""
    error = classify(
        _response(429, headers={"Retry-After": "86400"}), retry_after_cap_s=900.0, now=NOW
    )
    assert isinstance(error, TransientError)
    assert error.retry_after == 900.0


def test_429_without_retry_after_has_none() -> None:
    """A 429 without the header leaves the wait to the backoff."""
    error = classify(_response(429), now=NOW)
    assert isinstance(error, TransientError)
    assert error.retry_after is None


def test_retry_after_seconds() -> None:
    """Delay-seconds are read as seconds."""
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(" 0 ", NOW) == 0.0


def test_retry_after_http_date() -> None:
    """An HTTP date gives the seconds from now until then."""
    value = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(value, NOW) == 90.0


def test_retry_after_past_date_is_zero() -> None:
    """A date in the past means no wait, never a negative one."""
    value = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(value, NOW) == 0.0


@pytest.mark.parametrize("value", ["", "soon", "-5", "1e3", "Mon, 99 Foo 2026", "١٢"])
def test_retry_after_garbage_is_none(value: str) -> None:
    """Unreadable values give None."""
    assert parse_retry_after(value, NOW) is None


def test_problem_type_reads_slug_of_uri_or_plain_type() -> None:
    """problem_type gives the last segment of the type, None without a problem body."""
    assert problem_type(_response(409, json={"type": "plan-closed"})) == "plan-closed"
    assert problem_type(_response(409, json={"type": "https://x/y/consent-required"})) == (
        "consent-required"
    )
    assert problem_type(_response(500)) is None
    assert problem_type(_response(409, json=["not", "an", "object"])) is None


_REQUEST = httpx.Request("POST", URL)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused", request=_REQUEST), TransientError),
        (httpx.ConnectTimeout("slow", request=_REQUEST), TransientError),
        (httpx.PoolTimeout("busy", request=_REQUEST), TransientError),
        (httpx.ProxyError("proxy", request=_REQUEST), TransientError),
        (httpx.ReadTimeout("slow", request=_REQUEST), AmbiguousError),
        (httpx.WriteTimeout("slow", request=_REQUEST), AmbiguousError),
        (httpx.RemoteProtocolError("reset", request=_REQUEST), AmbiguousError),
        (httpx.ReadError("reset", request=_REQUEST), AmbiguousError),
        (httpx.WriteError("broken", request=_REQUEST), AmbiguousError),
        (httpx.UnsupportedProtocol("ftp", request=_REQUEST), PermanentError),
    ],
)
def test_transport_error_classification(
    exc: httpx.TransportError, expected: type[RemoteError]
) -> None:
    """Never-sent failures are transient, maybe-sent ones ambiguous, our own mistakes permanent."""
    error = transport_error(exc, op_ref="ref-2", endpoint="/plans", method="POST")
    assert type(error) is expected
    assert error.op_ref == "ref-2"
    assert error.endpoint == "/plans"
    assert "POST /plans" in str(error)


async def test_build_client_verifies_tls_and_trusts_env() -> None:
    """The built client verifies TLS, reads proxy variables and uses the given CA bundle."""
    client = build_client(base_url="https://x.example", timeout_s=5.0, ca_bundle=None)
    async with client:
        assert client.trust_env is True
        assert client.timeout.read == 5.0
        assert str(client.base_url) == "https://x.example"
    bundle = Path(ssl.get_default_verify_paths().cafile or "")
    if not bundle.is_file():
        pytest.skip("no system CA file to load")
    async with build_client(timeout_s=1.0, ca_bundle=bundle) as custom:
        assert custom.trust_env is True


async def test_build_client_rejects_a_missing_ca_bundle(tmp_path: Path) -> None:
    """A CA bundle that does not exist fails at construction, not on the first call."""
    with pytest.raises(OSError):
        build_client(timeout_s=1.0, ca_bundle=tmp_path / "missing.pem")


async def test_build_client_uses_an_injected_transport() -> None:
    """An injected transport answers instead of the network."""
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    async with build_client(
        base_url="https://nowhere.invalid", timeout_s=1.0, ca_bundle=None, transport=transport
    ) as client:
        response = await client.get("/ping")
    assert response.status_code == 204
