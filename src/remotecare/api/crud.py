"""Routes for one entity: list (filtered, paged), read, create and update, scoped and audited.

No `from __future__ import annotations` here: FastAPI reads the endpoints'
annotations at run time, and they name each resource's own schemas.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.errors import ApiError, not_found
from remotecare.api.schemas.common import ListQuery, Page
from remotecare.api.visibility import check_program, restrict
from remotecare.services.practice_access import may_manage_care
from remotecare.services.record_history import jsonable
from remotecare.store.base import MAX_ID, Base
from remotecare.store.models import Patient

ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]

# (session, principal, values, id of the record being updated or None) -> values to store;
# raises ApiError naming the field.
Prepare = Callable[[Session, Principal, dict[str, Any], int | None], dict[str, Any]]

# (session, principal, the record just flushed, for an update its changed fields' values before) -> None;
# runs in the request's transaction (a care plan's version is written this way).
AfterWrite = Callable[[Session, Principal, Any, dict[str, Any] | None], None]


@dataclass(frozen=True)
class Resource:
    path: str  # "/patients"
    entity: str  # "patient", as written to the audit trail
    model: type[Base]
    public: type[BaseModel]
    filters: type[BaseModel]
    read: str  # permission names from permissions.PERMISSIONS
    write: str
    create: type[BaseModel] | None = None
    update: type[BaseModel] | None = None
    references: dict[str, type[Base]] = field(default_factory=dict)  # body field -> practice-scoped table
    care_managers: tuple[str, ...] = ()  # body fields naming a care manager (see `check_care_managers`)
    prepare_create: Prepare | None = None
    prepare_update: Prepare | None = None
    after_write: AfterWrite | None = None
    order_by: str = "id"


def scoped(model: type[Base], principal: Principal) -> Select[Any]:
    """The caller's practice's records of `model` (of their programs only, for a care team's staff)."""
    query = select(model).where(model.practice_id == principal.practice_id)  # type: ignore[attr-defined]
    return restrict(query, model, principal)


def load_scoped(session: Session, model: type[Base], principal: Principal, entity: str, item_id: int) -> Any:
    row = session.scalar(scoped(model, principal).where(model.id == item_id))  # type: ignore[attr-defined]
    if row is None:
        raise not_found(entity, item_id)
    return row


def check_references(
    session: Session, principal: Principal, references: dict[str, type[Base]], values: dict[str, Any]
) -> None:
    """A body that names another record must name one in the caller's own practice."""
    for name, model in references.items():
        value = values.get(name)
        if value is None:
            continue
        exists = session.scalar(
            select(func.count()).select_from(
                scoped(model, principal).where(model.id == value).subquery()  # type: ignore[attr-defined]
            )
        )
        if not exists:
            raise ApiError(422, "unknown_reference", f"{name}: no record {value} in this practice.", name)


def check_care_managers(session: Session, principal: Principal, names: tuple[str, ...], values: dict[str, Any]) -> None:
    """A care manager is a clinician who acts in the caller's practice: its staff, a member, or a nurse of a
    care team it grants access (`practice_access.may_manage_care`)."""
    for name in names:
        value = values.get(name)
        if value is not None and not may_manage_care(session, value, principal.practice_id):
            raise ApiError(422, "unknown_reference", f"{name}: no clinician {value} works for this practice.", name)


def apply_filters(query: Select[Any], model: type[Base], filters: ListQuery) -> Select[Any]:
    for name, value in filters.filters().items():
        if name.endswith("_from"):
            query = query.where(getattr(model, name.removesuffix("_from")) >= value)
        elif name.endswith("_to"):
            query = query.where(getattr(model, name.removesuffix("_to")) <= value)
        elif name == "deleted":  # records kept as history once withdrawn: live ones unless asked
            column = model.deleted_at  # type: ignore[attr-defined]
            query = query.where(column.is_not(None) if value else column.is_(None))
        else:
            query = query.where(getattr(model, name) == value)
    return query


def read_page(
    session: Session,
    request: Request,
    principal: Principal,
    query: Select[Any],
    entity: str,
    asked: dict[str, Any],
    *,
    limit_key: str = "limit",
    offset_key: str = "offset",
) -> tuple[list[Any], int]:
    """One page of an ordered, scoped query and the total it pages through, written to the audit trail
    with every id it returned. `asked` is the query as the caller sent it, limit and offset included."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(asked.get(limit_key)).offset(asked.get(offset_key))))
    audit.record_list(session, request, principal, entity=entity, ids=[row.id for row in rows], query=asked)
    session.commit()
    return rows, total


def crud_router(resource: Resource) -> APIRouter:
    router = APIRouter(prefix=resource.path, tags=[resource.entity])
    read_guard = require(resource.read)
    write_guard = require(resource.write)
    Public, Filters = resource.public, resource.filters  # noqa: N806 - classes

    @router.get("", response_model=Page[Public], summary=f"List {resource.entity} records")  # type: ignore[valid-type]
    def list_items(
        request: Request,
        session: SessionDep,
        principal: Annotated[Principal, Depends(read_guard)],
        filters: Annotated[Filters, Query()],  # type: ignore[valid-type]
    ) -> Any:
        limit, offset = filters.limit, filters.offset  # type: ignore[attr-defined]
        query = apply_filters(scoped(resource.model, principal), resource.model, filters)
        order = (getattr(resource.model, resource.order_by), resource.model.id)  # type: ignore[attr-defined]
        asked = filters.model_dump(mode="json", exclude_none=True)  # type: ignore[attr-defined]
        rows, total = read_page(session, request, principal, query.order_by(*order), resource.entity, asked)
        return {"items": rows, "total": total, "limit": limit, "offset": offset}

    @router.get("/{item_id}", response_model=Public, summary=f"Read one {resource.entity}")
    def get_item(
        item_id: ItemId, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(read_guard)]
    ) -> Any:
        row = load_or_record_miss(session, request, principal, resource.model, resource.entity, item_id)
        audit.record(session, request, principal, action="read", entity=resource.entity, entity_id=item_id)
        session.commit()
        return row

    if resource.create is not None:
        Create = resource.create  # noqa: N806

        @router.post("", response_model=Public, status_code=201, summary=f"Create a {resource.entity}")
        def create_item(
            body: Create,  # type: ignore[valid-type]
            request: Request,
            response: Response,
            session: SessionDep,
            principal: Annotated[Principal, Depends(write_guard)],
        ) -> Any:
            values = body.model_dump()  # type: ignore[attr-defined]
            check_program(principal, values.get("program"))
            check_references(session, principal, resource.references, values)
            check_care_managers(session, principal, resource.care_managers, values)
            if resource.prepare_create is not None:
                values = resource.prepare_create(session, principal, values, None)
            row = resource.model(**values, practice_id=principal.practice_id)
            session.add(row)
            session.flush()
            if resource.after_write is not None:
                resource.after_write(session, principal, row, None)
            audit.record(session, request, principal, action="create", entity=resource.entity, entity_id=row.id)  # type: ignore[attr-defined]
            session.commit()
            response.headers["Location"] = f"{resource.path}/{row.id}"  # type: ignore[attr-defined]
            return row

    if resource.update is not None:
        Update = resource.update  # noqa: N806

        @router.patch("/{item_id}", response_model=Public, summary=f"Change a {resource.entity}")
        def update_item(
            item_id: ItemId,
            body: Update,  # type: ignore[valid-type]
            request: Request,
            session: SessionDep,
            principal: Annotated[Principal, Depends(write_guard)],
        ) -> Any:
            row = load_or_record_miss(session, request, principal, resource.model, resource.entity, item_id)
            changes = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
            version = changes.pop("version")
            if row.version != version:
                raise ApiError(
                    409,
                    "conflict",
                    f"version: the record is at version {row.version}, not {version}; "
                    "read it again and re-apply your change.",
                    "version",
                )
            _refuse_nulls_for_required_columns(resource.model, changes)
            check_references(session, principal, resource.references, changes)
            check_care_managers(session, principal, resource.care_managers, changes)
            if resource.prepare_update is not None:
                changes = resource.prepare_update(session, principal, changes, row.id)
            before = {name: jsonable(getattr(row, name)) for name in changes}
            for name, value in changes.items():
                setattr(row, name, value)
            session.flush()  # the UPDATE names the version read: a concurrent writer gets 409
            if resource.after_write is not None:
                resource.after_write(session, principal, row, before)
            after = {name: jsonable(getattr(row, name)) for name in changes}
            audit.record(
                session,
                request,
                principal,
                action="update",
                entity=resource.entity,
                entity_id=item_id,
                detail={"before": before, "after": after},
            )
            session.commit()
            return row

    return router


def _refuse_nulls_for_required_columns(model: type[Base], changes: dict[str, Any]) -> None:
    columns = model.__table__.columns
    for name, value in changes.items():
        if value is None and name in columns and not columns[name].nullable:
            raise ApiError(422, "invalid", f"{name}: may not be null; leave it out to keep its value.", name)


def load_or_record_miss(
    session: Session, request: Request, principal: Principal, model: type[Base], entity: str, item_id: int
) -> Any:
    """The practice's record, or 404 with the miss in the audit trail: asking for a record outside one's
    practice is worth an auditor's eye."""
    try:
        return load_scoped(session, model, principal, entity, item_id)
    except ApiError:
        audit.record(session, request, principal, action="not_found", entity=entity, entity_id=item_id)
        session.commit()
        raise


def path_patient(guard: Any) -> Any:
    """A dependency: the path's `patient_id`, loaded in the caller's practice once `guard` lets the caller in.
    It runs before the body is read, so a patient out of reach answers 404 (audited) whatever the body."""

    def load(
        patient_id: ItemId, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(guard)]
    ) -> Patient:
        patient: Patient = load_or_record_miss(session, request, principal, Patient, "patient", patient_id)
        return patient

    return load


def versions_read(
    session: Session,
    request: Request,
    principal: Principal,
    model: type[Base],
    entity: str,
    item_id: int,
    versions: Callable[[Session, int, int], list[Any]],
) -> list[Any]:
    """A record's saved versions (`versions(session, practice_id, item_id)`, oldest first), the read in the
    audit trail as `<entity>_version` with the ids it returned; a record outside the practice is a 404."""
    load_or_record_miss(session, request, principal, model, entity, item_id)
    found = versions(session, principal.practice_id, item_id)
    audit.record_list(
        session,
        request,
        principal,
        entity=f"{entity}_version",
        ids=[version.id for version in found],
        query={f"{entity}_id": item_id},
    )
    session.commit()
    return found
