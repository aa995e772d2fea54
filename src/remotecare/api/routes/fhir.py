"""FHIR R4: Observations in (one, or a transaction or batch Bundle) and out (read and search).

Errors on these routes are OperationOutcomes (see `errors`), so a FHIR client
reads them as it reads any server's.
"""

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import Select

from remotecare.api import audit, ingesting
from remotecare.api.crud import read_page, scoped
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError, not_found
from remotecare.ingest import fhir_codes
from remotecare.ingest.fhir_in import BundleRefused, parse_bundle, parse_observation
from remotecare.ingest.fhir_out import (
    observation_resource,
    operation_outcome,
    response_bundle,
    response_entry,
    searchset_bundle,
)
from remotecare.ingest.measures import MEASURES
from remotecare.ingest.reading import ItemResult, Outcome
from remotecare.services import ingestion
from remotecare.store.base import MAX_ID, utc_now
from remotecare.store.models import Observation

FHIR_JSON = "application/fhir+json"
SOURCE = "fhir"


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


class Resource(BaseModel):
    """A FHIR R4 resource as JSON (Observation, Bundle or OperationOutcome)."""

    model_config = {"extra": "allow"}
    resourceType: str  # noqa: N815 - FHIR's own name


FHIR_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Resource, "description": f"{description} (an OperationOutcome)"}
    for status, description in {
        400: "Malformed JSON",
        401: "Not logged in, or the token or key is unknown, expired or revoked",
        403: "The caller's role may not do this",
        404: "No such record in the caller's practice",
        422: "The resource is not a reading we can store; the outcome names the element",
    }.items()
}

router = APIRouter(prefix="/fhir", tags=["fhir"], default_response_class=FhirResponse, responses=FHIR_ERRORS)
writer = require("observations:write")
reader = require("observations:read")
FhirBody = Annotated[dict[str, Any], Body(media_type=FHIR_JSON)]
ObservationId = Annotated[int, Path(ge=1, le=MAX_ID)]

# The service names fields generically; in FHIR they are elements of the Observation.
ELEMENTS = {"at": "effective", "patient": "subject", "device": "device", "values": "value", "external_id": "identifier"}


@router.post("/Observation", response_model=Resource, status_code=201, summary="Store one FHIR Observation")
def create_observation(
    body: FhirBody, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(writer)]
) -> Any:
    item = parse_observation(body)
    [result] = ingesting.run(session, request, principal, [item], practice_id=principal.practice_id, source=SOURCE)
    if result.outcome is Outcome.REFUSED:
        field = _element(result, "Observation")
        raise ApiError(422, "invalid", f"{field}: {result.message}", field)
    row = session.get(Observation, result.id)
    status = 201 if result.outcome is Outcome.STORED else 200
    location = f"/fhir/Observation/{result.id}"
    return FhirResponse(observation_resource(row), status_code=status, headers={"Location": location})  # type: ignore[arg-type]


@router.post("", response_model=Resource, summary="Process a transaction or batch Bundle of Observations")
def process_bundle(
    body: FhirBody, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(writer)]
) -> Any:
    """A transaction stores all its Observations or none; a batch stores each good entry and answers
    each entry with its own status. Either way, an entry sent before is answered 200 with its id."""
    try:
        kind, items = parse_bundle(body)
    except BundleRefused as refused:
        raise ApiError(422, "invalid", f"{refused.field}: {refused.message}", refused.field) from None
    planned = ingestion.plan(session, principal.practice_id, items, source=SOURCE, now=utc_now())
    if kind == "transaction" and planned.refused:
        first = min(planned.refused, key=lambda result: result.index)
        field = _element(first, f"Bundle.entry[{first.index}].resource")
        raise ApiError(422, "invalid", f"{field}: {first.message} (the transaction stored nothing)", field)
    results = ingestion.store(session, planned)
    clash = next((result for result in results if result.outcome is Outcome.REFUSED), None)
    if kind == "transaction" and clash is not None:  # found only on writing: roll the whole transaction back
        session.rollback()
        field = _element(clash, f"Bundle.entry[{clash.index}].resource")
        raise ApiError(422, "invalid", f"{field}: {clash.message} (the transaction stored nothing)", field)
    ingesting.record(session, request, principal, results, practice_id=principal.practice_id, source=SOURCE)
    session.commit()
    entries = [_entry(result) for result in results]
    return response_bundle(kind, entries)


@router.get("/Observation/{observation_id}", response_model=Resource, summary="Read one Observation")
def read_observation(
    observation_id: ObservationId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
) -> Any:
    row = session.scalar(scoped(Observation, principal).where(Observation.id == observation_id))
    action = "read" if row is not None else "not_found"
    audit.record(session, request, principal, action=action, entity="observation", entity_id=observation_id)
    session.commit()
    if row is None:
        raise not_found("observation", observation_id)
    return observation_resource(row)


DATE_PARAM = re.compile(r"^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2})(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$")


def _date_filter(value: str) -> str:
    match = DATE_PARAM.match(value)
    try:
        assert match is not None
        dt.date.fromisoformat(match.group(2))
        if match.group(3):
            dt.datetime.fromisoformat(match.group(2) + match.group(3).replace("Z", "+00:00"))
    except (AssertionError, ValueError):
        raise ValueError(f"{value!r} is not a date (ge2026-10-01) or an instant with an offset") from None
    return value


DateFilter = Annotated[str, Field(pattern=DATE_PARAM.pattern), AfterValidator(_date_filter)]


class ObservationSearch(BaseModel):
    model_config = {"extra": "forbid"}
    patient: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    date: list[DateFilter] = Field(
        default_factory=list,
        description="ge2026-10-01, le2026-10-31: a day is the patient's calendar day; a time with an offset "
        "is an instant. Repeat for a range.",
    )
    code: str | None = Field(default=None, max_length=100, description="A LOINC code, or system|code")
    count: int = Field(default=100, ge=1, le=1000, alias="_count")
    offset: int = Field(default=0, ge=0, le=10_000_000, alias="_offset")


@router.get("/Observation", response_model=Resource, summary="Search Observations (a searchset Bundle)")
def search_observations(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(reader)],
    search: Annotated[ObservationSearch, Query()],
) -> Any:
    query = _filtered(scoped(Observation, principal), search).order_by(Observation.effective_at, Observation.id)
    asked = search.model_dump(mode="json", by_alias=True, exclude_none=True)
    rows, total = read_page(
        session, request, principal, query, "observation", asked, limit_key="_count", offset_key="_offset"
    )
    more = search.offset + len(rows) < total
    next_url = str(request.url.include_query_params(_offset=search.offset + len(rows))) if more else None
    return searchset_bundle([observation_resource(row) for row in rows], total, str(request.url), next_url)


def _filtered(query: Select[Any], search: ObservationSearch) -> Select[Any]:
    if search.patient is not None:
        query = query.where(Observation.patient_id == search.patient)
    if search.code is not None:
        reading_type = _type_for_code(search.code)
        if reading_type is None:
            raise ApiError(422, "invalid", f"code: {search.code!r} is not a code we store readings under.", "code")
        query = query.where(Observation.type == reading_type)
    for value in search.date:
        match = DATE_PARAM.match(value)
        assert match is not None  # the pattern was checked on the way in
        prefix, day, time = match.group(1) or "eq", dt.date.fromisoformat(match.group(2)), match.group(3)
        if time:
            instant = dt.datetime.fromisoformat(match.group(2) + time.replace("Z", "+00:00"))
            query = query.where(_compare(Observation.effective_at, prefix, instant))
        else:
            query = query.where(_compare(Observation.local_date, prefix, day))
    return query


def _type_for_code(token: str) -> str | None:
    """A search token, `code` or `system|code`, as the reading type stored under it."""
    system, bar, code = token.rpartition("|")
    if bar and system == fhir_codes.READING_TYPE:
        return code if code in MEASURES else None
    if bar and system not in ("", fhir_codes.LOINC):
        return None
    return fhir_codes.TYPE_BY_LOINC.get(code)


def _compare(column: Any, prefix: str, value: Any) -> Any:
    return {
        "eq": column == value,
        "ge": column >= value,
        "gt": column > value,
        "le": column <= value,
        "lt": column < value,
    }[prefix]


def _element(result: ItemResult, prefix: str) -> str:
    """A refusal's field as a FHIRPath under `prefix`; the parsers already give full paths."""
    field = result.field or prefix
    if field.startswith(("Observation", "Bundle")):
        if prefix.startswith("Bundle") and field.startswith("Observation"):
            return prefix + field.removeprefix("Observation")
        return field
    return f"{prefix}.{ingesting.rename(field, ELEMENTS)}"


def _entry(result: ItemResult) -> dict[str, Any]:
    if result.outcome is Outcome.STORED:
        return response_entry("201 Created", f"Observation/{result.id}", None)
    if result.outcome is Outcome.DUPLICATE:
        return response_entry("200 OK", f"Observation/{result.id}", None)
    field = _element(result, f"Bundle.entry[{result.index}].resource")
    return response_entry("422 Unprocessable Entity", None, operation_outcome(result.message or "refused", field))
