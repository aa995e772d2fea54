"""Programs a patient can be enrolled in, and the enrollment (episode of care)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Program(StrEnum):
    RPM = "RPM"
    RTM = "RTM"
    CCM = "CCM"
    PCM = "PCM"
    CPM = "CPM"
    BHI = "BHI"


class RtmFocus(StrEnum):
    """What an RTM enrollment monitors; it picks the device-supply code."""

    RESPIRATORY = "respiratory"
    MUSCULOSKELETAL = "musculoskeletal"
    CBT = "cbt"


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One episode of a program: `end` is its last day, or None while it runs."""

    id: str
    patient: str
    program: Program
    start: dt.date
    end: dt.date | None = None
    consent: dt.date | None = None
    focus: RtmFocus | None = None
    complex: bool = False

    def contains(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return self.start <= end and (self.end is None or start <= self.end)
