"""P360 client outcomes on a fake transport: business errors, HTTP codes, transport failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from adapter.dispatch.retry import in_call_retry
from adapter.errors import AmbiguousError, PermanentError, TransientError
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    CloseArchiveCase,
    CreateDocument,
    CreatePlan,
    DocumentSource,
    EnsureArchiveCase,
    PersonRef,
)
from adapter.settings.tenant import ArchiveAuth, ArchiveConfig
from adapter.targets.attempt import attempt_scope
from adapter.targets.documents import DocumentPolicy
from adapter.targets.p360 import (
    ArchiveCaseClosed,
    P360Client,
    SifPermanentError,
    SifTransientError,
    message_class,
    message_hash,
)

KEY = "p360-secret-key-42"
NIN = "03851650090"  # Tenor synthetic
OP = "stafett:modum:C1:archive-case:main"
SECRET_TEXT = "Validation: kontakt Kari Nordmann finnes ikke"

Handler = Callable[[httpx.Request], httpx.Response]


def ok(**fields: Any) -> httpx.Response:
    """A SIF success envelope."""
    return httpx.Response(
        200, json={"Successful": True, "ErrorMessage": None, "ErrorDetails": None, **fields}
    )


def failed(message: str) -> httpx.Response:
    """A SIF business error envelope."""
    return httpx.Response(
        200,
        json={"Successful": False, "ErrorMessage": message, "ErrorDetails": "stack " + message},
    )


def ensure(title: str = "Tverrfaglig samarbeid – BTI") -> EnsureArchiveCase:
    """An ENSURE_CASE payload."""
    return EnsureArchiveCase(
        external_id="modum:C1",
        external_system="BTI",
        title=title,
        unofficial_title="Tverrfaglig samarbeid – BTI – Kari",
        child_nin=NIN,
    )


def by_method(routes: dict[str, Handler]) -> tuple[Handler, list[httpx.Request]]:
    """A handler dispatching on the SIF method name; and the requests it saw."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        method = request.url.path.rsplit("/", 1)[-1]
        return routes[method](request)

    return handle, seen


def client(handler: Handler, **config: Any) -> P360Client:
    """A modum client over a fake transport (query auth unless told)."""
    settings: dict[str, Any] = {
        "base_url": "https://p360.invalid",
        "auth": ArchiveAuth.QUERY,
        "key": SecretStr(KEY),
        "responsible_enterprise_number": "864965962",
    }
    settings.update(config)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return P360Client(http, ArchiveConfig(**settings), tenant="modum")


def test_message_class_and_hash() -> None:
    """Only Validation/Error are named classes; the hash is sha256's first 12 hex digits."""
    assert message_class("Validation: x") == "Validation"
    assert message_class("Error: y") == "Error"
    assert message_class("Kari: z") == "unclassified"
    assert len(message_hash("x")) == 12 and message_hash("x") != message_hash("y")


async def test_validation_is_permanent_and_never_logged_or_in_the_message() -> None:
    """`Validation:` → SifPermanentError; logs and text carry class and hash, not the text."""
    handler, _ = by_method(
        {"GetCases": lambda _r: ok(Cases=[]), "CreateCase": lambda _r: failed(SECRET_TEXT)}
    )
    with capture_logs() as logs, pytest.raises(SifPermanentError) as caught:
        await client(handler).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    error = caught.value
    assert error.detail == SECRET_TEXT
    assert "Kari" not in str(error) and "stack" not in str(error)
    assert message_hash(SECRET_TEXT) in str(error)
    assert "Kari" not in repr(logs) and "stack" not in repr(logs)
    assert any(e.get("error_hash") == message_hash(SECRET_TEXT) for e in logs)


async def test_error_prefix_is_transient() -> None:
    """`Error:` (anything the patterns do not match) → SifTransientError, not ambiguous."""
    handler, _ = by_method(
        {"GetCases": lambda _r: ok(Cases=[]), "CreateCase": lambda _r: failed("Error: busy")}
    )
    with pytest.raises(SifTransientError) as caught:
        await client(handler).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert not isinstance(caught.value, AmbiguousError)
    assert caught.value.detail == "Error: busy"


async def test_tenant_patterns_decide_what_is_permanent() -> None:
    """A tenant pattern can make an `Error:` text permanent."""
    handler, _ = by_method(
        {"GetCases": lambda _r: ok(Cases=[]), "CreateCase": lambda _r: failed("Error: locked")}
    )
    c = client(handler, permanent_error_patterns=("^Validation:", "locked$"))
    with pytest.raises(SifPermanentError):
        await c.execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)


async def test_5xx_is_ambiguous_only_after_a_create() -> None:
    """502 on CreateCase → ambiguous; 502 on GetCases or UpdateCase → merely transient."""
    handler, _ = by_method(
        {"GetCases": lambda _r: ok(Cases=[]), "CreateCase": lambda _r: httpx.Response(502)}
    )
    with pytest.raises(AmbiguousError):
        await client(handler).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    down, _ = by_method({"GetCases": lambda _r: httpx.Response(502)})
    with pytest.raises(TransientError) as caught:
        await client(down).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert not isinstance(caught.value, AmbiguousError)
    close, _ = by_method({"UpdateCase": lambda _r: httpx.Response(503)})
    with pytest.raises(TransientError) as caught:
        await client(close).execute(
            OpKind.CLOSE_CASE, CloseArchiveCase(case_link="c"), {"c": "2026/1"}, op_ref=OP
        )
    assert not isinstance(caught.value, AmbiguousError)


async def test_timeouts_ambiguous_after_create_transient_on_reads() -> None:
    """ReadTimeout on CreateCase is ambiguous; on the GetCases lookup it is transient."""

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    create_times_out, _ = by_method({"GetCases": lambda _r: ok(Cases=[]), "CreateCase": timeout})
    with pytest.raises(AmbiguousError) as caught:
        await client(create_times_out).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert KEY not in str(caught.value)
    read_times_out, _ = by_method({"GetCases": timeout})
    with pytest.raises(TransientError) as caught:
        await client(read_times_out).lookup(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert not isinstance(caught.value, AmbiguousError)


async def test_429_carries_retry_after() -> None:
    """429 with Retry-After → TransientError with that wait."""
    handler, _ = by_method(
        {"GetCases": lambda _r: httpx.Response(429, headers={"Retry-After": "7"})}
    )
    with pytest.raises(TransientError) as caught:
        await client(handler).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert caught.value.retry_after == 7


async def test_401_is_permanent_and_hides_the_key() -> None:
    """A refused key parks the operation; the message names config keys, not the value."""
    handler, _ = by_method({"GetCases": lambda _r: httpx.Response(401)})
    with pytest.raises(PermanentError) as caught:
        await client(handler).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert caught.value.status == 401 and "archive.key" in str(caught.value)
    assert KEY not in str(caught.value)


async def test_created_without_a_number_is_ambiguous() -> None:
    """CreateCase answering success without CaseNumber may have created it: ambiguous."""
    handler, _ = by_method({"GetCases": lambda _r: ok(Cases=[]), "CreateCase": lambda _r: ok()})
    with pytest.raises(AmbiguousError):
        await client(handler).execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)


async def test_title_with_a_nin_is_refused_before_sending() -> None:
    """Screening: a public Title carrying a nin is never sent."""
    handler, seen = by_method({"GetCases": lambda _r: ok(Cases=[])})
    with pytest.raises(PermanentError, match="screening"):
        await client(handler).execute(OpKind.ENSURE_CASE, ensure(f"Sak {NIN}"), {}, op_ref=OP)
    assert all(not r.url.path.endswith("CreateCase") for r in seen)


async def test_header_variants_and_the_url() -> None:
    """Authorization variant: `authkey KEY` + clientid, no query; POST to the SIF path."""
    handler, seen = by_method(
        {
            "GetCases": lambda _r: ok(
                Cases=[{"CaseNumber": "2026/7", "ExternalId": {"Id": "modum:C1", "Type": "BTI"}}]
            )
        }
    )
    c = client(handler, auth=ArchiveAuth.AUTHORIZATION, client_id="stafett")
    result = await c.execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    (request,) = seen
    assert result.remote_id == "2026/7"
    assert request.method == "POST"
    assert request.url.path == "/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC/CaseService/GetCases"
    assert request.url.query == b""
    assert request.headers["Authorization"] == f"authkey {KEY}"
    assert request.headers["clientid"] == "stafett"
    assert json.loads(request.content) == {
        "parameter": {"ExternalId": {"Id": "modum:C1", "Type": "BTI"}, "MaxReturnedCases": 100}
    }


async def test_fetch_refusal_carries_the_op_ref() -> None:
    """A document refused before sending names the operation; nothing reaches SIF."""
    handler, seen = by_method({})
    payload = CreateDocument(
        case_link="c",
        title="Referat",
        unofficial_title="Referat",
        category="112",
        document_date=datetime(2026, 3, 2, tzinfo=UTC),
        source=DocumentSource(
            document_ref="https://elsewhere.invalid/d",
            filename="r.pdf",
            media_type="application/pdf",
        ),
    )
    with pytest.raises(PermanentError, match="not in the tenant's document_origins") as caught:
        await client(handler).execute(OpKind.CREATE_DOCUMENT, payload, {"c": "2026/1"}, op_ref=OP)
    assert caught.value.op_ref == OP
    assert seen == []


async def test_other_operations_and_missing_links_are_permanent() -> None:
    """A Samspill kind, or an unresolved case link, is refused without a request."""
    handler, seen = by_method({})
    c = client(handler)
    plan = CreatePlan(
        organization_number="864965962",
        main_person=PersonRef(name="x"),
        lead=PersonRef(name="y"),
        affiliation="skole",
        external_reference="r",
    )
    with pytest.raises(PermanentError):
        await c.execute(OpKind.CREATE_PLAN, plan, {}, op_ref=OP)
    with pytest.raises(PermanentError, match="no remote id"):
        await c.execute(OpKind.CLOSE_CASE, CloseArchiveCase(case_link="c"), {}, op_ref=OP)
    assert seen == []


DOC_HOST = "bti.modum.invalid"
DOC_PDF = Path(__file__).resolve().parents[2] / "examples" / "minutes" / "minutes-plain.pdf"


def _minutes_by_ref() -> CreateDocument:
    return CreateDocument(
        case_link="c",
        title="Referat",
        unofficial_title="Referat",
        category="112",
        document_date=datetime(2026, 3, 2, tzinfo=UTC),
        source=DocumentSource(
            document_ref=f"https://{DOC_HOST}/documents/d1",
            filename="r.pdf",
            media_type="application/pdf",
        ),
    )


def _archive_and_documents(
    creates: list[httpx.Response], status: Any = "B"
) -> tuple[Handler, list[str]]:
    """SIF answering CreateDocument from `creates`; the document host; what was asked."""
    asked: list[str] = []
    data = DOC_PDF.read_bytes()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == DOC_HOST:
            asked.append("fetch")
            return httpx.Response(200, content=data, headers={"Content-Type": "application/pdf"})
        method = request.url.path.rsplit("/", 1)[-1]
        asked.append(method)
        if method == "GetCases":
            return ok(Cases=[{"CaseNumber": "2026/1", "Status": status}])
        return creates.pop(0)

    return handle, asked


def _fetching_client(handler: Handler) -> P360Client:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    config = ArchiveConfig(
        base_url="https://p360.invalid", auth=ArchiveAuth.QUERY, key=SecretStr(KEY)
    )
    documents = DocumentPolicy.of([f"https://{DOC_HOST}"])
    return P360Client(http, config, tenant="modum", documents=documents)


async def test_in_call_retries_of_one_attempt_fetch_the_document_once() -> None:
    """CreateDocument refused once with `Error:`, then created: one fetch, two creates."""
    handler, asked = _archive_and_documents(
        [failed("Error: busy"), ok(Recno=1, DocumentNumber="2026/1-1")]
    )
    c = _fetching_client(handler)

    async def call() -> Any:
        return await c.execute(
            OpKind.CREATE_DOCUMENT, _minutes_by_ref(), {"c": "2026/1"}, op_ref=OP
        )

    with attempt_scope():
        result = await in_call_retry(call, attempts=3, base_s=0.0, max_s=0.0)
    assert result.remote_id == "2026/1-1"
    assert asked.count("fetch") == 1
    assert asked.count("CreateDocument") == 2
    # a new attempt (a new scope) fetches again: nothing outlives the attempt
    handler2, asked2 = _archive_and_documents([ok(Recno=2, DocumentNumber="2026/1-2")])
    c = _fetching_client(handler2)
    with attempt_scope():
        await call()
    assert asked2.count("fetch") == 1


@pytest.mark.parametrize(
    "status",
    ["A", "a", "recno:6", "RECNO:6", "Avsluttet", {"Recno": 6, "Code": "A", "Description": "x"}],
)
async def test_a_closed_case_is_recognised_in_every_form_sif_gives_its_status(
    status: Any,
) -> None:
    """Code, recno or description, any letter case: the document parks as "archive case closed"."""
    handler, _ = _archive_and_documents([failed("Validation: case is closed")], status=status)
    with pytest.raises(ArchiveCaseClosed, match="archive case closed"):
        await _fetching_client(handler).execute(
            OpKind.CREATE_DOCUMENT, _minutes_by_ref(), {"c": "2026/1"}, op_ref=OP
        )


async def test_an_open_case_keeps_the_business_error() -> None:
    """Status B (recno:5, under behandling) is open: the SIF error stands as it is."""
    handler, _ = _archive_and_documents([failed("Validation: bad")], status="recno:5")
    with pytest.raises(SifPermanentError):
        await _fetching_client(handler).execute(
            OpKind.CREATE_DOCUMENT, _minutes_by_ref(), {"c": "2026/1"}, op_ref=OP
        )


async def test_no_case_is_created_without_a_responsible_enterprise_number() -> None:
    """Real installations refuse such a case: refused before CreateCase, naming the key."""
    handler, seen = by_method({"GetCases": lambda _r: ok(Cases=[])})
    c = client(handler, responsible_enterprise_number=None)
    with pytest.raises(PermanentError, match="responsible_enterprise_number") as caught:
        await c.execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert caught.value.op_ref == OP
    assert [r.url.path.rsplit("/", 1)[-1] for r in seen] == ["GetCases"]


async def test_an_existing_case_is_adopted_without_a_responsible_enterprise_number() -> None:
    """Only a create needs the unit: a case found by ExternalId is adopted as before."""
    found = {"CaseNumber": "2026/7", "ExternalId": {"Id": "modum:C1", "Type": "BTI"}}
    handler, _ = by_method({"GetCases": lambda _r: ok(Cases=[found])})
    c = client(handler, responsible_enterprise_number=None)
    result = await c.execute(OpKind.ENSURE_CASE, ensure(), {}, op_ref=OP)
    assert result.remote_id == "2026/7"
