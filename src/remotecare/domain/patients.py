"""Patients as the billing rules see them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Patient:
    """`timezone` is an IANA name: days of data are counted in it.

    `established` says the billing practitioner has an established relationship
    with the patient; `conditions` are ICD-10-CM codes.
    """

    id: str
    timezone: str
    established: bool = False
    conditions: tuple[str, ...] = field(default_factory=tuple)
