"""What a caller whose access is limited to some programs (a care team's grant) may see and touch.

Such a caller sees the practice's patients enrolled in one of their programs, and of those patients only
the records of their programs (enrollments, consents, time, care plans, device assignments, claim lines);
records that belong to no program (readings, alerts, encounters) follow their patient. Writes naming
another program are refused. Everyone else sees the whole practice: these functions change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select

from remotecare.api.deps import Principal
from remotecare.api.errors import ApiError
from remotecare.domain.programs import Program
from remotecare.store.base import Base
from remotecare.store.models import Enrollment, Patient


class _HasProgram(Protocol):
    @property
    def program(self) -> Any: ...


ItemWithProgram = TypeVar("ItemWithProgram", bound=_HasProgram)


def patients_in_programs(principal: Principal) -> Select[Any] | None:
    """The ids of the patients the caller may see, or None when they may see every patient."""
    if principal.programs is None:
        return None
    return select(Enrollment.patient_id).where(
        Enrollment.practice_id == principal.practice_id,
        Enrollment.program.in_(sorted(principal.programs)),
    )


def restrict(query: Select[Any], model: type[Base], principal: Principal) -> Select[Any]:
    """`query` over `model`, narrowed to what a program-limited caller may see."""
    visible = patients_in_programs(principal)
    if visible is None:
        return query
    table: Any = model
    if model is Patient:
        query = query.where(table.id.in_(visible))
    elif hasattr(table, "patient_id"):
        query = query.where(table.patient_id.in_(visible))
    if hasattr(table, "program"):
        assert principal.programs is not None
        query = query.where(table.program.in_(sorted(principal.programs)))
    return query


def check_program(principal: Principal, program: Program | str | None) -> None:
    """Refuse a write in a program outside the caller's grant."""
    if principal.programs is None or program is None or Program(program) in principal.programs:
        return
    allowed = ", ".join(sorted(str(p) for p in principal.programs))
    raise ApiError(
        403,
        "forbidden",
        f"program: your care team's access to this practice covers {allowed}, not {Program(program)}.",
        "program",
    )


def in_programs(principal: Principal, items: Sequence[ItemWithProgram]) -> list[ItemWithProgram]:
    """The items (worklist or outreach rows) of the caller's programs: all of them for everyone else."""
    if principal.programs is None:
        return list(items)
    allowed = {str(program) for program in principal.programs}
    return [item for item in items if str(item.program) in allowed]
