"""Everything the billing rules are evaluated over, in one value."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from remotecare.domain.devices import Device, Reading
from remotecare.domain.encounters import Encounter
from remotecare.domain.patients import Patient
from remotecare.domain.programs import Enrollment
from remotecare.domain.time_entries import TimeEntry


@dataclass(frozen=True, slots=True)
class Window:
    """Bill every period that ends within `start`..`end` (both inclusive)."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class CareFacts:
    patients: tuple[Patient, ...] = field(default_factory=tuple)
    enrollments: tuple[Enrollment, ...] = field(default_factory=tuple)
    devices: tuple[Device, ...] = field(default_factory=tuple)
    readings: tuple[Reading, ...] = field(default_factory=tuple)
    time_entries: tuple[TimeEntry, ...] = field(default_factory=tuple)
    encounters: tuple[Encounter, ...] = field(default_factory=tuple)
