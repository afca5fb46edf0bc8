"""The Public 360 client against the in-process SIF mock: screening, adoption, auth, parking."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from pypdf import PdfReader

from adapter.errors import PermanentError
from adapter.mock.app import MockHandles
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    CloseArchiveCase,
    CreateDocument,
    DocumentSource,
    EnsureArchiveCase,
    SyncPerson,
)
from adapter.settings.tenant import ArchiveAuth, ArchiveConfig
from adapter.targets.documents import DocumentPolicy
from adapter.targets.p360 import SIF_PATH, ArchiveCaseClosed, P360Client, SifPermanentError
from adapter.targets.summary import (
    ClosingSummary,
    SummaryItem,
    SummaryMeeting,
    SummaryParticipant,
)

MINUTES = Path(__file__).resolve().parents[2] / "examples" / "minutes"
PDFA = (MINUTES / "minutes-pdfa.pdf").read_bytes()
PLAIN = (MINUTES / "minutes-plain.pdf").read_bytes()
CHILD_NIN = "03851650090"  # Tenor synthetic
CHILD_FIRST, CHILD_LAST = "Test Kari", "Testesen"
TENANT = "modum"
CASE_REF = "stafett:modum:BTI-2026-0042"
MODUM_KEY, MODUM_CLIENT = "modum-p360-demo-key", "stafett"
VARDO_KEY = "vardo-p360-demo-key"
FEED_KEY = "modum-feed-demo-key"


@dataclass
class Sent:
    """One request the client sent: path (without prefix), query, headers, parameter."""

    path: str
    query: dict[str, str]
    headers: httpx.Headers
    parameter: dict[str, Any]


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the mock app and records the SIF ones; `override` may answer first."""

    inner: httpx.AsyncBaseTransport
    sent: list[Sent] = field(default_factory=list)
    override: Callable[[Sent], httpx.Response | None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Record, maybe override, else forward."""
        if request.url.path.startswith(SIF_PATH):
            body = json.loads(request.content or b"{}")
            item = Sent(
                request.url.path.removeprefix(SIF_PATH + "/"),
                dict(request.url.params),
                request.headers,
                body.get("parameter", {}),
            )
            self.sent.append(item)
            if self.override is not None:
                answer = self.override(item)
                if answer is not None:
                    return answer
        return await self.inner.handle_async_request(request)

    def calls(self, path: str) -> list[Sent]:
        """The recorded requests to `Service/Method`."""
        return [s for s in self.sent if s.path == path]


@dataclass
class Harness:
    """The mock's archive, the recording transport, and a client factory."""

    app: FastAPI
    recorder: Recorder
    http: httpx.AsyncClient

    @property
    def archive(self) -> Any:
        """The P360 mock behind the app."""
        handles = self.app.state.mock
        assert isinstance(handles, MockHandles)
        return handles.archive

    def client(self, **overrides: Any) -> P360Client:
        """A client for modum (Authorization variant unless overridden)."""
        settings: dict[str, Any] = {
            "base_url": "http://mock",
            "auth": ArchiveAuth.AUTHORIZATION,
            "key": SecretStr(MODUM_KEY),
            "client_id": MODUM_CLIENT,
            "responsible_enterprise_number": "864965962",
        }
        extra = {k: overrides.pop(k) for k in ("closing_summary",) if k in overrides}
        settings.update(overrides)
        return P360Client(
            self.http,
            ArchiveConfig(**settings),
            tenant=TENANT,
            documents=DocumentPolicy.of(
                ["http://mock"], feed_url="http://mock/internal/v1", feed_key=SecretStr(FEED_KEY)
            ),
            **extra,
        )


@pytest.fixture
async def h(mock_app: FastAPI) -> AsyncIterator[Harness]:
    """A harness on a fresh mock."""
    recorder = Recorder(httpx.ASGITransport(app=mock_app))
    async with httpx.AsyncClient(transport=recorder, base_url="http://mock") as http:
        yield Harness(mock_app, recorder, http)


def ensure_payload(case_id: str = "BTI-2026-0042") -> EnsureArchiveCase:
    """The ENSURE_CASE payload the planner would make."""
    return EnsureArchiveCase(
        external_id=f"{TENANT}:{case_id}",
        external_system="BTI",
        title="Tverrfaglig samarbeid – BTI",
        unofficial_title=f"Tverrfaglig samarbeid – BTI – {CHILD_FIRST} {CHILD_LAST}",
        child_nin=CHILD_NIN,
    )


def minutes(data: bytes) -> CreateDocument:
    """A CREATE_DOCUMENT payload carrying `data` inline."""
    return CreateDocument(
        case_link="archive-case",
        title="Referat fra oppfølgingssamtale",
        unofficial_title=f"Referat fra oppfølgingssamtale – {CHILD_FIRST} {CHILD_LAST}",
        category="112",
        document_date=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        source=DocumentSource(
            content_base64=base64.b64encode(data).decode(),
            filename="referat.pdf",
            media_type="application/pdf",
            sha256=hashlib.sha256(data).hexdigest(),
        ),
        contact_nin=CHILD_NIN,
    )


async def open_case(h: Harness, client: P360Client) -> dict[str, str]:
    """Ensure the case; the ids mapping a document operation gets."""
    result = await client.execute(
        OpKind.ENSURE_CASE, ensure_payload(), {}, op_ref=f"{CASE_REF}:archive-case:main"
    )
    assert result.remote_id is not None
    return {"archive-case": result.remote_id}


def doc_ref(n: int) -> str:
    """The op_ref of the n-th minutes document."""
    return f"{CASE_REF}:document:M{n}"


async def test_sync_person_sends_nin_and_name_but_never_an_address(h: Harness) -> None:
    """SYNC_PERSON upserts the child by nin with first and last name only; Recno is the id."""
    payload = SyncPerson(nin=CHILD_NIN, first_name=CHILD_FIRST, last_name=CHILD_LAST)
    result = await h.client().execute(OpKind.SYNC_PERSON, payload, {}, op_ref=f"{CASE_REF}:p:c")
    (sent,) = h.recorder.calls("ContactService/SynchronizePrivatePerson")
    assert sent.parameter == {
        "PersonalIdNumber": CHILD_NIN,
        "FirstName": CHILD_FIRST,
        "LastName": CHILD_LAST,
    }
    (person,) = h.archive.dump()["persons"]
    assert result.remote_id == str(person["Recno"])


async def test_ensure_case_creates_a_screened_case(h: Harness) -> None:
    """CreateCase: public Title without name or nin, access code, FNR class, unofficial party."""
    ids = await open_case(h, h.client())
    (case,) = h.archive.dump()["cases"]
    assert ids["archive-case"] == case["CaseNumber"]
    assert CHILD_NIN not in case["Title"]
    assert CHILD_FIRST.split()[-1] not in case["Title"] and CHILD_LAST not in case["Title"]
    assert CHILD_LAST in case["UnofficialTitle"]
    assert case["AccessCode"] == "13"
    assert case["Paragraph"] == "Offl. § 13 jf. fvl. § 13 (1) nr.1"
    assert case["ExternalId"] == {"Id": "modum:BTI-2026-0042", "Type": "BTI"}
    assert case["Status"] == "B"
    assert case["ResponsibleEnterpriseNumber"] == "864965962"
    assert case["ArchiveCodes"] == [
        {"ArchiveCode": CHILD_NIN, "ArchiveType": "FNR", "Sort": 1, "IsManualText": True}
    ]
    assert case["Contacts"] == [{"Role": "9", "ReferenceNumber": CHILD_NIN, "IsUnofficial": True}]


async def test_ensure_case_adopts_an_existing_case_by_external_id(h: Harness) -> None:
    """A second ENSURE_CASE (or lookup) finds the case by ExternalId and creates none."""
    client = h.client()
    first = await open_case(h, client)
    second = await open_case(h, client)
    looked = await client.lookup(OpKind.ENSURE_CASE, ensure_payload(), {}, op_ref="x")
    assert first == second
    assert looked is not None and looked.remote_id == first["archive-case"]
    assert len(h.archive.dump()["cases"]) == 1
    assert len(h.recorder.calls("CaseService/CreateCase")) == 1


async def test_ensure_case_adopts_after_losing_the_create_race(h: Harness) -> None:
    """CreateCase refused as ExternalId already used → looked up again and adopted."""
    client = h.client()
    ids = await open_case(h, client)
    hidden = {"left": 1}

    def hide_first_lookup(sent: Sent) -> httpx.Response | None:
        if sent.path == "CaseService/GetCases" and hidden["left"]:
            hidden["left"] -= 1
            return httpx.Response(
                200,
                json={"Successful": True, "Cases": [], "TotalCount": 0, "TotalPageCount": 0},
            )
        return None

    h.recorder.override = hide_first_lookup
    again = await open_case(h, client)
    assert again == ids
    assert len(h.recorder.calls("CaseService/CreateCase")) == 2
    assert len(h.archive.dump()["cases"]) == 1


@pytest.mark.parametrize(("data", "version"), [(PDFA, "A"), (PLAIN, "P")])
async def test_minutes_are_archived_screened_with_the_op_ref_remark(
    h: Harness, data: bytes, version: str
) -> None:
    """CreateDocument: J, 112, access code, remark = op_ref, one main file, A only for PDF/A."""
    client = h.client()
    ids = await open_case(h, client)
    result = await client.execute(OpKind.CREATE_DOCUMENT, minutes(data), ids, op_ref=doc_ref(1))
    (doc,) = h.archive.dump()["documents"]
    assert result.remote_id == doc["DocumentNumber"]
    assert doc["CaseNumber"] == ids["archive-case"]
    assert CHILD_LAST not in doc["Title"] and CHILD_NIN not in doc["Title"]
    assert (doc["Status"], doc["Category"], doc["Archive"]) == ("J", "112", "Saksdokument")
    assert (doc["AccessCode"], doc["Paragraph"]) == ("13", "Offl. § 13 jf. fvl. § 13 (1) nr.1")
    assert doc["Remarks"] == [{"Title": "stafett-ref", "Content": doc_ref(1)}]
    # the child is the document's contact too, unofficial (screened), never by name
    assert doc["Contacts"] == [{"Role": "9", "ReferenceNumber": CHILD_NIN, "IsUnofficial": True}]
    assert "UnregisteredContacts" not in doc
    (file,) = doc["Files"]
    assert file["VersionFormat"] == version
    assert (file["RelationType"], file["Format"], file["Status"]) == ("H", "pdf", "F")
    assert file["sha256"] == hashlib.sha256(data).hexdigest()


async def test_minutes_fetched_from_an_allowed_host_with_the_feed_key(
    h: Harness, mock_client: httpx.AsyncClient
) -> None:
    """A document_ref on an allowed host is fetched (bearer feed key) and archived as is."""
    stored = await mock_client.post(
        "/_mock/internal/documents",
        json={
            "id": "referat-1",
            "media_type": "application/pdf",
            "content_base64": base64.b64encode(PDFA).decode(),
        },
    )
    assert stored.status_code == 200, stored.text
    client = h.client()
    ids = await open_case(h, client)
    source = DocumentSource(
        document_ref=stored.json()["url"],
        filename="referat.pdf",
        media_type="application/pdf",
        sha256=stored.json()["sha256"],
    )
    payload = minutes(PDFA).model_copy(update={"source": source})
    await client.execute(OpKind.CREATE_DOCUMENT, payload, ids, op_ref=doc_ref(1))
    (doc,) = h.archive.dump()["documents"]
    assert doc["Files"][0]["sha256"] == hashlib.sha256(PDFA).hexdigest()
    assert doc["Files"][0]["VersionFormat"] == "A"


async def test_lookup_adopts_a_document_that_committed_without_an_answer(h: Harness) -> None:
    """After 101 other documents, lookup pages through and finds the one with our remark."""
    client = h.client()
    ids = await open_case(h, client)
    plain = base64.b64encode(PLAIN).decode()
    for n in range(101):  # other documents first, so ours sits on the second page
        other = await h.http.post(
            f"{SIF_PATH}/DocumentService/CreateDocument",
            params={"authkey": MODUM_KEY},
            json={
                "parameter": {
                    "CaseNumber": ids["archive-case"],
                    "Title": "Annet",
                    "Category": "112",
                    "Status": "J",
                    "Remarks": [{"Title": "stafett-ref", "Content": doc_ref(1000 + n)}],
                    "Files": [{"Title": "x", "Format": "pdf", "Base64Data": plain}],
                }
            },
        )
        assert other.json()["Successful"] is True
    committed = await h.http.post(
        f"{SIF_PATH}/DocumentService/CreateDocument",
        params={"authkey": MODUM_KEY},
        json={
            "parameter": {
                "CaseNumber": ids["archive-case"],
                "Title": "Referat",
                "Category": "112",
                "Status": "J",
                "Remarks": [{"Title": "stafett-ref", "Content": doc_ref(1)}],
            }
        },
    )
    number = committed.json()["DocumentNumber"]
    found = await client.lookup(OpKind.CREATE_DOCUMENT, minutes(PLAIN), ids, op_ref=doc_ref(1))
    missing = await client.lookup(OpKind.CREATE_DOCUMENT, minutes(PLAIN), ids, op_ref=doc_ref(2))
    assert found is not None and found.remote_id == number
    assert missing is None
    pages = [s.parameter["Page"] for s in h.recorder.calls("DocumentService/GetDocuments")]
    assert pages[:2] == [0, 1]
    assert all(s.parameter["IncludeRemarks"] is True for s in h.recorder.sent if "GetDoc" in s.path)


async def test_close_case_twice_is_success(h: Harness) -> None:
    """CLOSE_CASE sets Status A; closing a closed case again is not an error."""
    client = h.client()
    ids = await open_case(h, client)
    payload = CloseArchiveCase(case_link="archive-case")
    await client.execute(OpKind.CLOSE_CASE, payload, ids, op_ref=f"{CASE_REF}:close#1")
    await client.execute(OpKind.CLOSE_CASE, payload, ids, op_ref=f"{CASE_REF}:close#2")
    (case,) = h.archive.dump()["cases"]
    assert case["Status"] == "A"
    assert h.recorder.calls("CaseService/UpdateCase")[0].parameter == {
        "CaseNumber": ids["archive-case"],
        "Status": "A",
    }


async def test_minutes_for_a_closed_case_park_as_archive_case_closed(h: Harness) -> None:
    """A document for a closed archive case → PermanentError saying "archive case closed"."""
    client = h.client()
    ids = await open_case(h, client)
    close = CloseArchiveCase(case_link="archive-case")
    await client.execute(OpKind.CLOSE_CASE, close, ids, op_ref=f"{CASE_REF}:close")
    with pytest.raises(ArchiveCaseClosed) as caught:
        await client.execute(OpKind.CREATE_DOCUMENT, minutes(PLAIN), ids, op_ref=doc_ref(1))
    assert isinstance(caught.value, PermanentError)
    assert "archive case closed" in str(caught.value)
    assert h.archive.dump()["documents"] == []


async def test_validation_answer_is_permanent_with_the_text_only_in_detail(h: Harness) -> None:
    """An unknown Category → Successful false "Validation: …" → SifPermanentError."""
    client = h.client()
    ids = await open_case(h, client)
    bad = minutes(PLAIN).model_copy(update={"category": "99999"})
    with pytest.raises(SifPermanentError) as caught:
        await client.execute(OpKind.CREATE_DOCUMENT, bad, ids, op_ref=doc_ref(1))
    assert caught.value.detail.startswith("Validation:")
    assert caught.value.detail not in str(caught.value)
    assert caught.value.error_hash in str(caught.value)


@pytest.mark.parametrize(
    ("auth", "key", "client_id", "where"),
    [
        (ArchiveAuth.QUERY, VARDO_KEY, None, "query"),
        (ArchiveAuth.HEADER, VARDO_KEY, None, "authkey"),
        (ArchiveAuth.AUTHORIZATION, MODUM_KEY, MODUM_CLIENT, "authorization"),
    ],
)
async def test_each_auth_variant_is_accepted_by_the_mock(
    h: Harness, auth: ArchiveAuth, key: str, client_id: str | None, where: str
) -> None:
    """Query ?authkey=, AuthKey header, Authorization: authkey + clientid all work."""
    client = h.client(auth=auth, key=SecretStr(key), client_id=client_id)
    await open_case(h, client)
    sent = h.recorder.sent[0]
    if where == "query":
        assert sent.query == {"authkey": key} and "authkey" not in sent.headers
    elif where == "authkey":
        assert sent.headers["authkey"] == key and sent.query == {}
    else:
        assert sent.headers["authorization"] == f"authkey {key}"
        assert sent.headers["clientid"] == MODUM_CLIENT and sent.query == {}
    assert len(h.archive.dump()["cases"]) == 1


async def test_wrong_key_is_permanent_and_the_message_hides_it(h: Harness) -> None:
    """HTTP 401 → PermanentError naming the tenant's config, never the key."""
    client = h.client(auth=ArchiveAuth.QUERY, key=SecretStr("wrong-key-123"), client_id=None)
    with pytest.raises(PermanentError) as caught:
        await open_case(h, client)
    assert caught.value.status == 401
    assert "wrong-key-123" not in str(caught.value)


async def test_closing_summary_is_rendered_and_archived_as_pdfa(h: Harness) -> None:
    """render="closing-summary": the provider's summary becomes a PDF/A file without nins."""
    asked: list[str] = []

    async def provide(op_ref: str, _payload: CreateDocument) -> ClosingSummary:
        asked.append(op_ref)
        return ClosingSummary(
            tenant=TENANT,
            case_id="BTI-2026-0042",
            transferred_at=datetime(2026, 5, 1, tzinfo=UTC),
            goals=(SummaryItem(title="Trives på skolen", status="achieved"),),
            measures=(SummaryItem(title="Samtaler", status="ended", evaluation="Virket"),),
            meetings_held=(SummaryMeeting(kind="ressursteam", date=date(2026, 3, 2)),),
            participants=(SummaryParticipant(role="helsesykepleier", service="helse"),),
        )

    client = h.client(closing_summary=provide)
    ids = await open_case(h, client)
    payload = minutes(b"").model_copy(
        update={
            "render": "closing-summary",
            "source": DocumentSource(filename="sluttsammendrag.pdf", media_type="application/pdf"),
        }
    )
    await client.execute(OpKind.CREATE_DOCUMENT, payload, ids, op_ref=doc_ref(9))
    assert asked == [doc_ref(9)]
    (doc,) = h.archive.dump()["documents"]
    assert doc["Files"][0]["VersionFormat"] == "A"
    fetched = await h.http.post(
        f"{SIF_PATH}/DocumentService/GetDocuments",
        params={"authkey": MODUM_KEY},
        json={"parameter": {"DocumentNumber": doc["DocumentNumber"], "IncludeFileData": True}},
    )
    data = base64.b64decode(fetched.json()["Documents"][0]["Files"][0]["Base64Data"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Trives på skolen" in text and "helsesykepleier" in text
    assert CHILD_NIN not in text
