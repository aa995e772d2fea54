"""Readings posted as plain JSON: one at a time, or a batch in the scenario-file shape."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from remotecare.api import ingesting
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError, field_path
from remotecare.api.schemas.devices import ObservationIn, ObservationPublic
from remotecare.api.schemas.ingest import BatchReading, IngestReport, ReadingBatch
from remotecare.ingest.reading import IncomingReading, Outcome, Parsed, Refusal
from remotecare.services import ingestion
from remotecare.store.base import utc_now
from remotecare.store.models import Observation

router = APIRouter(tags=["readings"])
writer = require("observations:write")

SINGLE_FIELDS = {"at": "effective_at", "patient": "patient_id", "device": "device_id"}


@router.post(
    "/observations",
    response_model=ObservationPublic,
    status_code=201,
    summary="Post one reading",
    responses={200: {"model": ObservationPublic, "description": "Sent before: the stored reading, unchanged"}},
)
def post_observation(
    body: ObservationIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
) -> Any:
    reading = IncomingReading(
        type=body.type,
        values=body.values,
        at=body.effective_at,
        patient_id=body.patient_id,
        device_id=body.device_id,
        manual=body.manual,
        external_id=body.external_id,
    )
    planned = ingestion.plan(session, principal.practice_id, [reading], source="api", now=utc_now())
    [result] = ingestion.store(session, planned)
    if result.outcome is Outcome.REFUSED:
        session.rollback()  # like any refused body: nothing written
        field = ingesting.rename(result.field or "body", SINGLE_FIELDS)
        code = "unknown_reference" if (result.message or "").startswith("no ") else "invalid"
        raise ApiError(422, code, f"{field}: {result.message}", field)
    ingesting.record(session, request, principal, [result], practice_id=principal.practice_id, source="api")
    session.commit()
    response.headers["Location"] = f"/observations/{result.id}"
    if result.outcome is Outcome.STORED:  # answered from what was written, without reading it back
        return {**planned.observations[0].values, "id": result.id}
    response.status_code = 200
    return session.get(Observation, result.id)


@router.post("/readings/batch", response_model=IngestReport, summary="Post a batch of readings")
def post_batch(
    body: ReadingBatch,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(writer)],
) -> Any:
    """Each item is stored, found already stored, or refused with the field at fault; one bad item
    does not stop the others. Sending the same batch again stores nothing twice."""
    results = ingesting.run(
        session, request, principal, parse_batch(body.readings), practice_id=principal.practice_id, source="api"
    )
    # Built here rather than re-validated against IngestReport: a thousand items would cost more to check
    # than to store. The shape is the one the document states (a test compares the two).
    return JSONResponse(ingesting.report(results))


ALL_READINGS = TypeAdapter(list[BatchReading])


def parse_batch(raw: list[Any]) -> list[Parsed]:
    """Every item as a reading or a refusal. The whole list is validated in one call when it is all good
    (the common case, and much faster); otherwise item by item, so each bad one is named on its own."""
    try:
        return [_reading(item) for item in ALL_READINGS.validate_python(raw)]
    except ValidationError:
        return [_parse(item) for item in raw]


def _parse(item: Any) -> Parsed:
    try:
        reading = BatchReading.model_validate(item)
    except ValidationError as error:
        first = error.errors()[0]
        return Refusal(field_path(list(first["loc"])) or "item", str(first["msg"]).removeprefix("Value error, "))
    return _reading(reading)


def _reading(reading: BatchReading) -> IncomingReading:
    return IncomingReading(
        type=reading.type,
        values=reading.values,
        at=reading.at,
        patient_id=reading.patient,
        device_serial=reading.device,
        manual=reading.manual,
        external_id=reading.external_id,
    )
