"""The mock's own OpenAPI is honest: schemathesis finds no server error and no answer
outside the documented schemas on the Samspill and internal routes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import hypothesis
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from adapter.mock import create_app
from tests.unit.test_mock_support import MODUM, samspill_token

APP = create_app(rate_limit=0)


async def _token() -> str:
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        return await samspill_token(client)


TOKEN = asyncio.run(_token())
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(
    path_regex=r"^/(samspill/api/v1|internal/v1)/"
)


@schema.parametrize()
@hypothesis.settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_samspill_and_internal_routes_conform(case: schemathesis.Case[Any]) -> None:
    """Generated requests (with a valid token or feed key) get documented, non-5xx answers."""
    key = TOKEN if case.path.startswith("/samspill") else MODUM.feed_key
    response = case.call(headers={"Authorization": f"Bearer {key}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
