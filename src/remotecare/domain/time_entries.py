"""Staff time logged against a patient's program."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from remotecare.domain.programs import Program


class Performer(StrEnum):
    PHYSICIAN = "physician"
    QHP = "qhp"  # other qualified health professional
    CLINICAL_STAFF = "clinical_staff"


@dataclass(frozen=True, slots=True)
class TimeEntry:
    """Minutes spent on one patient in one program on a (patient-local) date.

    `interactive` marks real-time synchronous communication with the patient or
    caregiver. Entries that share an `id` are the same entry sent twice.
    """

    patient: str
    program: Program
    date: dt.date
    minutes: int
    performer: Performer
    interactive: bool = False
    id: str | None = None
