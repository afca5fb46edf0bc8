"""The Public 360 (SIF RPC) client: the only module that knows SIF paths and field names.

Every call is `POST {base_url}/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC/{Service}/{Method}`
with `{"parameter": {...}}`, authenticated as the tenant's `archive.auth` says
(`adapter.targets.sif_auth`). The URL is never logged (the query variant carries the key).

Operations (contracts/p360-sif.md, domain rule 6):

- SYNC_PERSON → `ContactService/SynchronizePrivatePerson` (no address, ever) → `Recno`.
- ENSURE_CASE → `CaseService/GetCases` by ExternalId; adopt, else `CreateCase` screened
  (public Title, AccessCode/Paragraph, FNR class, unofficial Sakspart, the tenant's
  ResponsibleEnterpriseNumber: without one the create is refused, permanently, before any
  request) → `CaseNumber`. A create that fails because another attempt won the race is
  adopted after a new lookup.
- CREATE_DOCUMENT → bytes from `adapter.targets.documents` (or the closing summary
  rendered by `adapter.targets.summary`), then `DocumentService/CreateDocument` with the
  op_ref as the remark `stafett-ref` → `DocumentNumber`. `lookup` lists the case's
  documents and adopts the one carrying that remark.
- CLOSE_CASE → `CaseService/UpdateCase` Status A; a case already closed is success.

The closing summary: a CREATE_DOCUMENT with `render="closing-summary"` asks the
`closing_summary` provider given to the constructor for a `ClosingSummary` (the dispatcher
builds it from the case's state; it gets the op_ref, which names tenant and case, and the
payload) and archives `render_closing_summary(summary)`.

Errors: `Successful: false` is `SifPermanentError` when the tenant's
`permanent_error_patterns` match the `ErrorMessage`, else `SifTransientError`; only the
message's class (`Validation`, `Error`) and a sha256 prefix are logged or put in the
exception's text, the full message is in `.detail` for the parked operation, and
`ErrorDetails` is never read. A document for a closed archive case is `ArchiveCaseClosed`
("archive case closed"). HTTP 401 is permanent; 429, 5xx and transport failures follow
`adapter.targets.http`, except that only `CreateCase` and `CreateDocument` can be
ambiguous (every other call is a read or safe to repeat).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from adapter.errors import AmbiguousError, PermanentError, RemoteError, TransientError
from adapter.logs import get_logger, register_secret
from adapter.nin import looks_like_nin
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    CloseArchiveCase,
    CreateDocument,
    EnsureArchiveCase,
    Payload,
    SyncPerson,
)
from adapter.settings.tenant import ArchiveConfig
from adapter.targets.attempt import once_per_attempt
from adapter.targets.documents import DocumentPolicy, fetch_document
from adapter.targets.http import PROBE_REF, classify, transport_error
from adapter.targets.pdf import declares_pdfa, is_pdf
from adapter.targets.result import Result
from adapter.targets.sif_auth import sif_auth
from adapter.targets.summary import ClosingSummary, render_closing_summary

__all__ = [
    "CLOSED_STATUS",
    "OPEN_STATUS",
    "REMARK_TITLE",
    "SIF_PATH",
    "ArchiveCaseClosed",
    "P360Client",
    "SifPermanentError",
    "SifTransientError",
    "SummaryProvider",
    "document_ref",
    "is_closed_status",
    "message_class",
    "message_hash",
]

log = get_logger(__name__)

SIF_PATH = "/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC"
REMARK_TITLE = "stafett-ref"
OPEN_STATUS = "B"  # case status: under behandling
CLOSED_STATUS = "A"  # case status: avsluttet
_JOURNALED = "J"
_FINAL_FILE = "F"
_MAIN_FILE = "H"
_SAKSPART = "9"
_FNR = "FNR"
_ARCHIVE = "Saksdokument"
_PAGE_SIZE = 100
_MAX_PAGES = 1000
_KNOWN_CLASSES = ("Validation", "Error")

SummaryProvider = Callable[[str, CreateDocument], Awaitable[ClosingSummary]]
"""(op_ref, payload) → the closing summary of the case the op_ref names."""


def message_class(message: str) -> str:
    """The loggable class of a SIF `ErrorMessage`: `Validation`, `Error` or `unclassified`."""
    head = message.split(":", 1)[0].strip()
    return head if head in _KNOWN_CLASSES else "unclassified"


def message_hash(message: str) -> str:
    """A short, stable fingerprint of a SIF `ErrorMessage` (sha256, 12 hex digits)."""
    return hashlib.sha256(message.encode("utf-8")).hexdigest()[:12]


class _SifBusinessError:
    """Mixin: the full `ErrorMessage` (may hold names) kept apart from the exception text."""

    detail: str
    error_class: str
    error_hash: str


class SifPermanentError(PermanentError, _SifBusinessError):
    """`Successful: false` that retrying will not fix; `.detail` holds the full message."""

    def __init__(self, message: str, *, detail: str, op_ref: str, endpoint: str) -> None:
        super().__init__(message, op_ref=op_ref, endpoint=endpoint, status=200)
        self.detail = detail
        self.error_class = message_class(detail)
        self.error_hash = message_hash(detail)


class SifTransientError(TransientError, _SifBusinessError):
    """`Successful: false` that may pass later; `.detail` holds the full message."""

    def __init__(self, message: str, *, detail: str, op_ref: str, endpoint: str) -> None:
        super().__init__(message, op_ref=op_ref, endpoint=endpoint, status=200)
        self.detail = detail
        self.error_class = message_class(detail)
        self.error_hash = message_hash(detail)


class ArchiveCaseClosed(PermanentError):
    """A document for an archive case that is closed: park until an archivist reopens it."""


_SifError = SifPermanentError | SifTransientError
P = TypeVar("P", bound=Payload)


def _as(kind: type[P], payload: Payload) -> P:
    if not isinstance(payload, kind):
        raise PermanentError(f"payload {type(payload).__name__} is not {kind.__name__}")
    return payload


def _screened(title: str, op_ref: str) -> str:
    """A public Title; refuses one carrying anything shaped like a nin."""
    if looks_like_nin(title):
        raise PermanentError(
            f"screening: the public Title carries a nin-shaped number; refused [{op_ref}]",
            op_ref=op_ref,
        )
    return title


def _calm(error: RemoteError) -> RemoteError:
    """An ambiguous outcome of a call that is safe to repeat is merely transient."""
    if not isinstance(error, AmbiguousError):
        return error
    return TransientError(
        str(error),
        op_ref=error.op_ref,
        endpoint=error.endpoint,
        status=error.status,
        retry_after=error.retry_after,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


class P360Client:
    """One tenant's Public 360 over SIF, on the shared HTTP client.

    `documents` says where documents may be fetched from and with which key (the tenant's
    `feed` settings; `fetch_http` defaults to `http`); `closing_summary` provides the summary for
    `render="closing-summary"` documents (see the module docstring); `clock` (aware UTC)
    judges an HTTP-date `Retry-After`.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        config: ArchiveConfig,
        *,
        tenant: str,
        documents: DocumentPolicy | None = None,
        closing_summary: SummaryProvider | None = None,
        fetch_http: httpx.AsyncClient | None = None,
        retry_after_cap_s: float | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if config.base_url is None:
            raise PermanentError(f"tenant {tenant!r} has no archive base_url")
        self._http = http
        self._config = config
        self._tenant = tenant
        self._base = config.base_url.rstrip("/") + SIF_PATH
        self._documents = documents or DocumentPolicy()
        self._closing_summary = closing_summary
        self._fetch_http = fetch_http or http
        self._retry_after_cap_s = retry_after_cap_s
        self._clock = clock
        if config.key is not None:
            register_secret(config.key.get_secret_value())

    @property
    def tenant(self) -> str:
        """The tenant this client archives for."""
        return self._tenant

    async def probe(self) -> int:
        """`SupportService/Ping` through the path every archive call takes (the tenant's
        auth variant, the same error classes), for `config check --probe`. Returns the HTTP
        status (SIF answers every call 200, contracts/p360-sif.md); raises the
        `RemoteError` a failing call would."""
        await self._call("SupportService", "Ping", {}, PROBE_REF)
        return 200

    # --- the TargetClient protocol ----------------------------------------------------

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        """Perform one archive operation once."""
        if kind is OpKind.SYNC_PERSON:
            return await self._sync_person(_as(SyncPerson, payload), op_ref)
        if kind is OpKind.ENSURE_CASE:
            return await self._ensure_case(_as(EnsureArchiveCase, payload), op_ref)
        if kind is OpKind.CREATE_DOCUMENT:
            return await self._create_document(_as(CreateDocument, payload), ids, op_ref)
        if kind is OpKind.CLOSE_CASE:
            return await self._close_case(_as(CloseArchiveCase, payload), ids, op_ref)
        raise PermanentError(f"{kind.value} is not an archive operation", op_ref=op_ref)

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        """What an earlier attempt created: the case by ExternalId, the document by remark.

        Person synchronisation (an upsert) and closing are safe to repeat: None.
        """
        if kind is OpKind.ENSURE_CASE:
            number = await self._find_case(_as(EnsureArchiveCase, payload), op_ref)
            return None if number is None else Result(remote_id=number, status=200)
        if kind is OpKind.CREATE_DOCUMENT:
            p = _as(CreateDocument, payload)
            found = await self._find_document(self._id(ids, p.case_link, op_ref), op_ref)
            return None if found is None else Result(remote_id=found, status=200)
        return None

    # --- operations -------------------------------------------------------------------

    async def _sync_person(self, p: SyncPerson, op_ref: str) -> Result:
        parameter = {
            "PersonalIdNumber": p.nin,
            "FirstName": p.first_name,
            "LastName": p.last_name,
        }
        body = await self._call("ContactService", "SynchronizePrivatePerson", parameter, op_ref)
        recno = _text(body.get("Recno"))
        if recno is None:
            raise TransientError(
                f"ContactService/SynchronizePrivatePerson answered without Recno [{op_ref}]",
                op_ref=op_ref,
                endpoint="ContactService/SynchronizePrivatePerson",
            )
        return Result(remote_id=recno, status=200)

    async def _ensure_case(self, p: EnsureArchiveCase, op_ref: str) -> Result:
        found = await self._find_case(p, op_ref)
        if found is not None:
            log.info("archive case exists; adopting it", op_ref=op_ref, case_number=found)
            return Result(remote_id=found, status=200)
        cfg = self._config
        if not cfg.responsible_enterprise_number:
            # real installations refuse a case without a responsible unit; say so plainly
            raise PermanentError(
                f"tenant {self._tenant!r} has no archive.responsible_enterprise_number: an "
                f"archive case cannot be created without one; set it and retry [{op_ref}]",
                op_ref=op_ref,
                endpoint="CaseService/CreateCase",
            )
        parameter: dict[str, Any] = {
            "Title": _screened(p.title, op_ref),
            "UnofficialTitle": p.unofficial_title,
            "ExternalId": {"Id": p.external_id, "Type": p.external_system},
            "Status": OPEN_STATUS,
            "AccessCode": cfg.access_code,
            "Paragraph": cfg.paragraph,
            "ArchiveCodes": [
                {"ArchiveCode": p.child_nin, "ArchiveType": _FNR, "Sort": 1, "IsManualText": True}
            ],
            "Contacts": [{"Role": _SAKSPART, "ReferenceNumber": p.child_nin, "IsUnofficial": True}],
            "ResponsibleEnterpriseNumber": cfg.responsible_enterprise_number,
        }
        try:
            body = await self._call("CaseService", "CreateCase", parameter, op_ref, creates=True)
        except (SifPermanentError, SifTransientError):
            found = await self._find_case(p, op_ref)  # another attempt may have won the race
            if found is None:
                raise
            log.info("archive case created meanwhile; adopting it", op_ref=op_ref)
            return Result(remote_id=found, status=200)
        return Result(remote_id=self._created(body, "CaseNumber", "CaseService/CreateCase", op_ref))

    async def _create_document(
        self, p: CreateDocument, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        case_number = self._id(ids, p.case_link, op_ref)
        # fetched and verified once per attempt, not again on each in-call retry
        data = await once_per_attempt(f"document:{op_ref}", lambda: self._document_bytes(p, op_ref))
        cfg = self._config
        parameter = {
            "CaseNumber": case_number,
            "Title": _screened(p.title, op_ref),
            "UnofficialTitle": p.unofficial_title,
            "Category": p.category,
            "Status": _JOURNALED,
            "DocumentDate": p.document_date.isoformat(),
            "AccessCode": cfg.access_code,
            "Paragraph": cfg.paragraph,
            "Archive": _ARCHIVE,
            "Remarks": [{"Title": REMARK_TITLE, "Content": op_ref}],
            **_document_contacts(p),
            "Files": [
                {
                    "Title": p.title,
                    "Format": "pdf",
                    "Base64Data": base64.b64encode(data).decode("ascii"),
                    "RelationType": _MAIN_FILE,
                    "VersionFormat": "A" if declares_pdfa(data) else "P",
                    "Status": _FINAL_FILE,
                }
            ],
        }
        try:
            body = await self._call(
                "DocumentService", "CreateDocument", parameter, op_ref, creates=True
            )
        except (SifPermanentError, SifTransientError) as exc:
            if is_closed_status(await self._case_status(case_number, op_ref)):
                raise ArchiveCaseClosed(
                    f"archive case closed: {case_number} takes no more documents; an "
                    f"archivist must reopen it before a retry [{op_ref}]",
                    op_ref=op_ref,
                    endpoint="DocumentService/CreateDocument",
                    status=200,
                ) from exc
            raise
        number = self._created(body, "DocumentNumber", "DocumentService/CreateDocument", op_ref)
        return Result(remote_id=number, status=200)

    async def _close_case(self, p: CloseArchiveCase, ids: Mapping[str, str], op_ref: str) -> Result:
        case_number = self._id(ids, p.case_link, op_ref)
        parameter = {"CaseNumber": case_number, "Status": CLOSED_STATUS}
        try:
            await self._call("CaseService", "UpdateCase", parameter, op_ref)
        except (SifPermanentError, SifTransientError):
            if not is_closed_status(await self._case_status(case_number, op_ref)):
                raise
            log.info("archive case already closed", op_ref=op_ref, case_number=case_number)
        return Result(status=200)

    # --- reads ------------------------------------------------------------------------

    async def find_case(
        self, external_id: str, external_system: str, *, op_ref: str
    ) -> dict[str, Any] | None:
        """The archive case carrying this ExternalId (as `GetCases` shows it), or None."""
        wanted = {"Id": external_id, "Type": external_system}
        parameter = {"ExternalId": wanted, "MaxReturnedCases": _PAGE_SIZE}
        body = await self._call("CaseService", "GetCases", parameter, op_ref)
        for case in body.get("Cases") or []:
            if not isinstance(case, dict):
                continue
            ext = case.get("ExternalId")
            if isinstance(ext, dict) and ext.get("Id") == external_id:
                if ext.get("Type") not in (None, external_system):
                    continue
                if _text(case.get("CaseNumber")) is not None:
                    return case
        return None

    async def list_documents(self, case_number: str, *, op_ref: str) -> list[dict[str, Any]]:
        """Every document of an archive case, with remarks, without file data."""
        found: list[dict[str, Any]] = []
        page = 0
        while page < _MAX_PAGES:
            parameter = {
                "CaseNumber": case_number,
                "IncludeRemarks": True,
                "IncludeFileData": False,
                "MaxReturnedDocuments": _PAGE_SIZE,
                "Page": page,
            }
            body = await self._call("DocumentService", "GetDocuments", parameter, op_ref)
            found.extend(d for d in body.get("Documents") or [] if isinstance(d, dict))
            pages = body.get("TotalPageCount")
            page += 1
            if not isinstance(pages, int) or page >= pages:
                break
        return found

    async def _find_case(self, p: EnsureArchiveCase, op_ref: str) -> str | None:
        case = await self.find_case(p.external_id, p.external_system, op_ref=op_ref)
        return None if case is None else _text(case.get("CaseNumber"))

    async def _case_status(self, case_number: str, op_ref: str) -> Any:
        """The case's `Status` as SIF gives it, or None when it cannot be read (the caller's
        error wins)."""
        try:
            body = await self._call("CaseService", "GetCases", {"CaseNumber": case_number}, op_ref)
        except RemoteError:
            return None
        for case in body.get("Cases") or []:
            if isinstance(case, dict) and case.get("CaseNumber") == case_number:
                return case.get("Status")
        return None

    async def _find_document(self, case_number: str, op_ref: str) -> str | None:
        page = 0
        while page < _MAX_PAGES:
            parameter = {
                "CaseNumber": case_number,
                "IncludeRemarks": True,
                "IncludeFileData": False,
                "MaxReturnedDocuments": _PAGE_SIZE,
                "Page": page,
            }
            body = await self._call("DocumentService", "GetDocuments", parameter, op_ref)
            for document in body.get("Documents") or []:
                if isinstance(document, dict) and _carries(document, op_ref):
                    return _text(document.get("DocumentNumber"))
            pages = body.get("TotalPageCount")
            page += 1
            if not isinstance(pages, int) or page >= pages:
                return None
        return None

    # --- documents --------------------------------------------------------------------

    async def _document_bytes(self, p: CreateDocument, op_ref: str) -> bytes:
        max_bytes = self._config.max_document_bytes
        try:
            if p.render == "closing-summary":
                if self._closing_summary is None:
                    raise PermanentError("no closing-summary provider is configured")
                data = render_closing_summary(await self._closing_summary(op_ref, p))
                if len(data) > max_bytes or not is_pdf(data):
                    raise PermanentError("the rendered closing summary is unusable (size or PDF)")
                return data
            return await fetch_document(
                p.source,
                http=self._fetch_http,
                policy=self._documents,
                max_bytes=max_bytes,
            )
        except RemoteError as exc:
            if exc.op_ref is None:
                exc.op_ref = op_ref
            raise

    # --- transport --------------------------------------------------------------------

    async def _call(
        self,
        service: str,
        method: str,
        parameter: Mapping[str, Any],
        op_ref: str,
        *,
        creates: bool = False,
    ) -> dict[str, Any]:
        """One SIF call; the success envelope, or the error its outcome means."""
        endpoint = f"{service}/{method}"
        params, headers = sif_auth(self._config, tenant=self._tenant)
        headers["Accept"] = "application/json"
        request = self._http.build_request(
            "POST",
            f"{self._base}/{service}/{method}",
            json={"parameter": dict(parameter)},
            params=params,
            headers=headers,
        )
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            failed = transport_error(exc, op_ref=op_ref, endpoint=endpoint, method="POST")
            raise (failed if creates else _calm(failed)) from None
        if response.status_code == 401:
            raise PermanentError(
                f"POST {endpoint} answered 401: the archive refused tenant "
                f"{self._tenant!r}'s key; check archive.key and archive.auth [{op_ref}]",
                op_ref=op_ref,
                endpoint=endpoint,
                status=401,
            )
        error = classify(
            response,
            op_ref=op_ref,
            endpoint=endpoint,
            retry_after_cap_s=self._retry_after_cap_s,
            now=self._clock(),
        )
        if error is not None:
            raise error if creates else _calm(error)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            kind = AmbiguousError if creates else TransientError
            raise kind(
                f"POST {endpoint} answered {response.status_code} without a SIF envelope "
                f"[{op_ref}]",
                op_ref=op_ref,
                endpoint=endpoint,
                status=response.status_code,
            )
        if body.get("Successful") is not True:
            raise self._business_error(endpoint, body, op_ref)
        return body

    def _business_error(self, endpoint: str, body: Mapping[str, Any], op_ref: str) -> _SifError:
        raw = body.get("ErrorMessage")
        message = raw if isinstance(raw, str) else ""
        klass, digest = message_class(message), message_hash(message)
        permanent = self._config.is_permanent_error(message)
        log.warning(
            "archive business error",
            op_ref=op_ref,
            call=endpoint,
            error_class=klass,
            error_hash=digest,
            permanent=permanent,
        )
        text = f"{endpoint} answered Successful=false ({klass}, message #{digest}) [{op_ref}]"
        kind = SifPermanentError if permanent else SifTransientError
        return kind(text, detail=message, op_ref=op_ref, endpoint=endpoint)

    def _created(self, body: Mapping[str, Any], key: str, endpoint: str, op_ref: str) -> str:
        value = _text(body.get(key))
        if value is None:
            raise AmbiguousError(
                f"POST {endpoint} succeeded without {key!r} [{op_ref}]",
                op_ref=op_ref,
                endpoint=endpoint,
                status=200,
            )
        return value

    @staticmethod
    def _id(ids: Mapping[str, str], key: str, op_ref: str) -> str:
        try:
            return ids[key]
        except KeyError:
            raise PermanentError(f"no remote id resolved for {key!r}", op_ref=op_ref) from None


def document_ref(document: Mapping[str, Any]) -> str | None:
    """The op_ref a document carries as its `stafett-ref` remark, or None."""
    for remark in document.get("Remarks") or []:
        if isinstance(remark, dict) and remark.get("Title") == REMARK_TITLE:
            content = remark.get("Content")
            if isinstance(content, str):
                return content
    return None


_CLOSED_FORMS = frozenset({CLOSED_STATUS.lower(), "recno:6", "avsluttet"})
"""Case status A as SIF may show it: the code, its recno (`recno:6`) or the description."""


def is_closed_status(status: Any) -> bool:
    """Whether a case's `Status` means avsluttet, in any form SIF gives it, any letter case:
    a string, or a code-table object with `Code`, `Recno` or `Description`."""
    if isinstance(status, dict):
        forms = [status.get("Code"), status.get("Description")]
        if status.get("Recno") is not None:
            forms.append(f"recno:{status['Recno']}")
        return any(is_closed_status(form) for form in forms)
    return isinstance(status, str) and status.strip().lower() in _CLOSED_FORMS


def _carries(document: Mapping[str, Any], op_ref: str) -> bool:
    remarks = document.get("Remarks") or []
    return any(
        isinstance(r, dict) and r.get("Title") == REMARK_TITLE and r.get("Content") == op_ref
        for r in remarks
    )


def _document_contacts(p: CreateDocument) -> dict[str, Any]:
    """The child as the document's unofficial contact (Sakspart), when the payload names one
    (operations planned before contacts were sent have none)."""
    if p.contact_nin is None:
        return {}
    return {
        "Contacts": [{"Role": _SAKSPART, "ReferenceNumber": p.contact_nin, "IsUnofficial": True}]
    }
