"""One JSON error shape for every failure: {"error": {"code", "message", "field"}}.

Under /fhir the same error is an OperationOutcome, the shape FHIR clients read:
the message in `diagnostics`, the field in `expression`, our code in `details`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def not_found(entity: str, entity_id: object) -> ApiError:
    # Another practice's record answers exactly like one that does not exist.
    return ApiError(404, "not_found", f"No {entity} {entity_id}.")


def error_body(code: str, message: str, field: str | None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header", "cookie")]
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path or None


def _detail(error: Any) -> dict[str, Any]:
    message = str(error["msg"]).removeprefix("Value error, ")
    loc = list(error["loc"])
    # A union reports the member it tried ('values.kg.float'); the field is the one that was sent.
    while len(loc) > 1 and loc[-1] in UNION_MEMBERS:
        loc.pop()
    if error["type"] == "value_error" and loc in (["body"], []):
        # Rules across fields start their message with the field they fault ("end_date is before start_date").
        first_word = message.split(" ", 1)[0]
        if first_word.isidentifier() and first_word.islower():
            loc = [*loc, first_word]
    if loc == ["body"]:
        return {"field": "body", "message": message}  # the body as a whole (e.g. a list, not an object)
    return {"field": field_path(loc), "message": message}


UNION_MEMBERS = frozenset({"float", "int", "bool", "str", "list", "dict"})


# Our error codes as FHIR issue types (http://hl7.org/fhir/issue-type).
FHIR_ISSUE_TYPES = {
    "unauthenticated": "login",
    "forbidden": "forbidden",
    "not_found": "not-found",
    "malformed_json": "structure",
    "conflict": "conflict",
    "method_not_allowed": "not-supported",
}


def respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    field: str | None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    if request.url.path.startswith("/fhir"):
        issue: dict[str, Any] = {
            "severity": "error",
            "code": FHIR_ISSUE_TYPES.get(code, "invalid"),
            "details": {"coding": [{"system": ERROR_CODES, "code": code}], "text": message},
            "diagnostics": message,
        }
        if field:
            issue["expression"] = [field]
        outcome = {"resourceType": "OperationOutcome", "issue": [issue]}
        return JSONResponse(outcome, status_code=status, headers=headers, media_type="application/fhir+json")
    return JSONResponse(error_body(code, message, field, **extra), status_code=status, headers=headers)


ERROR_CODES = "https://remotecare.dev/fhir/CodeSystem/error-code"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return respond(request, exc.status, exc.code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": "invalid"}
        if first.get("type") == "json_invalid":
            return respond(request, 400, "malformed_json", "The body is not valid JSON.", "body")
        details = [_detail(error) for error in errors]
        field = details[0]["field"] if details else None
        message = f"{field}: {details[0]['message']}" if field else details[0]["message"]
        return respond(request, 422, "invalid", message, field, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return respond(request, exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, __: StaleDataError) -> JSONResponse:
        message = "The record changed since you read it; read it again and re-apply your change."
        return respond(request, 409, "conflict", message, "version")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        return respond(request, 409, "conflict", "The change conflicts with a stored record.", None)
