"""The Public 360 SIF part of the mock: routes, authentication and the response envelope.

Served under `/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC` as `POST /{Service}/{Method}` with a
body `{"parameter": {...}}`. A wrong or missing key is HTTP 401 and an unknown call HTTP 404;
everything else is HTTP 200 with `Successful` telling success from a business error.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from adapter.mock.p360_archive import Archive
from adapter.mock.p360_models import (
    CreateCaseArgs,
    CreateDocumentArgs,
    CreateFileArgs,
    GetCasesArgs,
    GetCodeTableRowsArgs,
    GetDocumentsArgs,
    GetPrivatePersonsArgs,
    SifArgs,
    SynchronizePrivatePersonArgs,
    UpdateCaseArgs,
)
from adapter.mock.p360_records import SifFault, invalid

__all__ = ["SIF_PREFIX", "P360Mock"]

SIF_PREFIX = "/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC"

Result = dict[str, object]
_A = TypeVar("_A", bound=SifArgs)


@dataclass(frozen=True, slots=True)
class _Call(Generic[_A]):
    """One SIF call: its arguments model and its handler (arguments, parameter as received)."""

    model: type[_A]
    handler: Callable[[_A, Result], Result]

    def run(self, parameter: Result) -> Result:
        try:
            return self.handler(self.model.model_validate(parameter), parameter)
        except ValidationError as error:
            raise invalid(f"invalid value in {_first_error_field(error)}") from None


def _ping(_args: SifArgs, _parameter: Result) -> Result:
    return {}


def _first_error_field(error: ValidationError) -> str:
    location = error.errors()[0]["loc"] if error.errors() else ()
    return ".".join(str(part) for part in location) or "parameter"


def _stack_trace(service: str, method: str, message: str) -> str:
    kind = "ValidationException" if message.startswith("Validation:") else "SifException"
    return (
        f"SI.Data.RPC.{kind}: {message}\r\n"
        f"   at SI.Biz.Core.{service}.{method}(Parameter parameter)\r\n"
        f"   at SI.Data.RPC.RpcDispatcher.Invoke(String service, String method)\r\n"
        f"   at SI.Web.Biz.Controllers.RpcController.Call()"
    )


def _error(status: int, message: str, exception: str) -> JSONResponse:
    body = {"Type": "Error", "ExceptionType": exception, "Message": message}
    return JSONResponse(body, status_code=status)


class P360Mock:
    """A stateful, in-memory Public 360 that speaks SIF RPC over JSON."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._archive = Archive(clock or (lambda: datetime.now(UTC)))
        self._keys: dict[str, str | None] = {}
        self._calls = self._call_table()

    def reset(self) -> None:
        """Empty cases, documents, persons and files; code tables and keys stay."""
        self._archive.reset()

    def dump(self) -> dict[str, object]:
        """`{"cases": [...], "documents": [...], "persons": [...]}` as `/_mock/state` shows."""
        return self._archive.dump()

    def register_key(self, authkey: str, clientid: str | None) -> None:
        """Accept `authkey`; with a clientid, the `Authorization` variant must send it too."""
        self._keys[authkey] = clientid

    def router(self) -> APIRouter:
        """The SIF routes, to be included at prefix `SIF_PREFIX`."""
        router = APIRouter()

        @router.post("/{service}/{method}")
        async def call(service: str, method: str, request: Request) -> JSONResponse:
            """Any SIF RPC call: `{"parameter": {...}}` in, the SIF envelope out."""
            return await self._handle(service, method, request)

        return router

    def _call_table(self) -> dict[tuple[str, str], _Call[Any]]:
        a = self._archive
        calls: dict[tuple[str, str], _Call[Any]] = {
            ("SupportService", "Ping"): _Call(SifArgs, _ping),
            ("FileService", "Ping"): _Call(SifArgs, _ping),
            ("SupportService", "GetCodeTableRows"): _Call(
                GetCodeTableRowsArgs, lambda args, _: a.code_table_rows(args)
            ),
            ("ContactService", "SynchronizePrivatePerson"): _Call(
                SynchronizePrivatePersonArgs, a.synchronize_person
            ),
            ("ContactService", "GetPrivatePersons"): _Call(
                GetPrivatePersonsArgs, lambda args, _: a.get_persons(args)
            ),
            ("CaseService", "CreateCase"): _Call(CreateCaseArgs, a.create_case),
            ("CaseService", "GetCases"): _Call(GetCasesArgs, lambda args, _: a.get_cases(args)),
            ("CaseService", "UpdateCase"): _Call(UpdateCaseArgs, a.update_case),
            ("DocumentService", "CreateDocument"): _Call(CreateDocumentArgs, a.create_document),
            ("DocumentService", "GetDocuments"): _Call(
                GetDocumentsArgs, lambda args, _: a.get_documents(args)
            ),
            ("FileService", "CreateFile"): _Call(CreateFileArgs, a.create_file),
        }
        return {(s.casefold(), m.casefold()): c for (s, m), c in calls.items()}

    def _authorised(self, request: Request) -> bool:
        headers = request.headers
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if scheme.casefold() == "authkey":
            key, via_authorization = credential.strip(), True
        else:
            key = headers.get("authkey") or request.query_params.get("authkey") or ""
            via_authorization = False
        matched = [k for k in self._keys if hmac.compare_digest(k.encode(), key.encode())]
        if not key or not matched:
            return False
        clientid = self._keys[matched[0]]
        return not (
            via_authorization and clientid is not None and headers.get("clientid") != clientid
        )

    async def _handle(self, service: str, method: str, request: Request) -> JSONResponse:
        call = self._calls.get((service.casefold(), method.casefold()))
        if call is None:
            return _error(404, "Unknown service or method", "NotFoundException")
        if not self._authorised(request):
            return _error(401, "Invalid or missing authkey", "UnauthorizedAccessException")
        try:
            result = call.run(self._parameter(await request.body()))
        except SifFault as fault:
            return JSONResponse(
                {
                    "Successful": False,
                    "ErrorMessage": fault.message,
                    "ErrorDetails": _stack_trace(service, method, fault.message),
                }
            )
        return JSONResponse(
            {**result, "Successful": True, "ErrorMessage": None, "ErrorDetails": None}
        )

    @staticmethod
    def _parameter(body: bytes) -> Result:
        try:
            document = json.loads(body)
        except ValueError:
            raise invalid("the request body is not JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("parameter"), dict):
            raise invalid("the request body must be an object with a parameter object")
        parameter: Result = document["parameter"]
        return parameter
