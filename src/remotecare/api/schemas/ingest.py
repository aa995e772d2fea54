"""Batches of readings, what became of each item, vendor integrations and the review queue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from remotecare.api.schemas.common import Flag, Input, Instant, ListQuery, Output, RecordId, Versioned
from remotecare.api.schemas.devices import ObservationType
from remotecare.store.models import HeldStatus

MAX_BATCH = 5000
Vendor = Literal["tenovi", "bodytrace"]


class BatchReading(BaseModel):
    """One reading in the scenario-file shape; `patient` is the patient's record id, `device` the device serial.

    Not an `Input`: its per-field Python validator would cost more than storing the reading. Unknown fields
    are still refused, and NUL characters by pattern here and by `measures` in text values."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient: RecordId
    device: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$")] | None = None
    at: Instant
    type: ObservationType
    values: dict[str, float | int | bool | str] = Field(max_length=20)
    manual: Flag = False
    external_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00]*$")] | None = None


# Items are checked one by one, so one bad item is refused on its own instead of failing the batch;
# the document still shows their shape.
LooseReading = Annotated[Any, WithJsonSchema(BatchReading.model_json_schema())]


class ReadingBatch(BaseModel):
    """Not an `Input` either: its NUL check would walk every item before each is checked on its own."""

    model_config = ConfigDict(extra="forbid")
    readings: list[LooseReading] = Field(min_length=1, max_length=MAX_BATCH)


class ItemResultPublic(Output):
    index: int = Field(description="Position of the item in what was sent, from 0.")
    outcome: Literal["stored", "duplicate", "refused", "held"]
    id: int | None = Field(description="The observation stored or already on file; or the held reading.")
    field: str | None = None
    message: str | None = None


class IngestReport(Output):
    stored: int
    duplicate: int
    refused: int
    held: int
    items: list[ItemResultPublic]


class IntegrationCreate(Input):
    vendor: Vendor | Literal["sms"]
    name: str = Field(min_length=1, max_length=120)
    auth_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="For `sms` only, and required there: the provider's auth token, which signs its webhooks. "
        "Kept, never shown again. A device vendor's secret is made here instead.",
    )


class IntegrationUpdate(Versioned):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    active: Flag | None = None


class IntegrationPublic(Output):
    id: int
    vendor: str
    name: str
    active: bool
    last_received_at: dt.datetime | None
    webhook_path: str
    version: int


class IntegrationCreated(IntegrationPublic):
    secret: str | None = Field(
        description="Shown once: configure the sender to sign its webhooks with it (none for `sms`, whose "
        "provider signs with the auth token given)."
    )


class HeldReadingPublic(Output):
    id: int
    integration_id: int | None
    device_serial: str
    type: str
    values: dict[str, Any]
    effective_at: dt.datetime
    manual: bool
    source: str
    external_id: str | None
    reason: str
    status: HeldStatus
    received_at: dt.datetime
    resolved_at: dt.datetime | None
    observation_id: int | None


class HeldReadingFilter(ListQuery):
    status: HeldStatus | None = None
    device_serial: str | None = Field(default=None, max_length=64)


class HeldReadingReleased(Output):
    held: HeldReadingPublic
    result: ItemResultPublic
