"""The one shape every ingestion path produces, and what became of each item."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class IncomingReading:
    """A reading as a sender described it, before it is checked against the practice's records.

    The patient is named by record id (FHIR, JSON batch, CSV) or left to be found
    from the device's assignment on the reading's day (vendor webhooks, which
    know only the device). The device is named by record id or by serial/IMEI.
    `values` are in canonical units (see `measures`). `external_id` is the
    sender's own id for the reading; with it, a retry is recognised even if the
    sender re-encodes the payload.
    """

    type: str
    values: dict[str, Any]
    at: dt.datetime
    patient_id: int | None = None
    device_id: int | None = None
    device_serial: str | None = None
    manual: bool = False
    external_id: str | None = None
    # Provenance kept with the reading: what the device itself reported, when it matters for an audit.
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refusal:
    """An item a parser could not turn into a reading: `field` is a path into what was sent."""

    field: str
    message: str


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already stored: a retry, answered with the stored reading's id
    REFUSED = "refused"
    HELD = "held"  # the device is unknown or unassigned that day: kept for review, not dropped


@dataclass(frozen=True, slots=True)
class ItemResult:
    index: int
    outcome: Outcome
    id: int | None = None  # the observation (stored, duplicate) or held reading (held)
    field: str | None = None
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "outcome": self.outcome.value, "id": self.id}
        if self.outcome in (Outcome.REFUSED, Outcome.HELD):
            body["field"], body["message"] = self.field, self.message
        return body


Parsed = IncomingReading | Refusal
