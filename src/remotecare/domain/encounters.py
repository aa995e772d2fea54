"""Visits that billing rules depend on (initiating visit, CPM face-to-face visit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Encounter:
    patient: str
    date: dt.date
    type: str
    face_to_face: bool = False
