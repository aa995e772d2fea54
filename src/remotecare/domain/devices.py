"""Devices assigned to patients, and the readings they send."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from remotecare.domain.programs import Program


@dataclass(frozen=True, slots=True)
class Device:
    """A device assigned to one patient for one program from `start` to `end`.

    `medical_device` says whether it meets the FDA definition (FD&C Act 201(h));
    only such devices earn days of data. Without a `start`, the assignment
    begins on the day of the device's first reading.
    """

    id: str
    patient: str
    program: Program
    kind: str
    medical_device: bool
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """One observation at an exact instant; `manual` marks a value keyed in by hand."""

    patient: str
    at: dt.datetime
    type: str
    device: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    manual: bool = False
