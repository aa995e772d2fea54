"""The admin pages: users and roles, API keys, alert thresholds, the audit trail.

Each change is the API's: a user is created and changed as `POST/PATCH /users` do (`prepare_user`), a key
as `POST/DELETE /api-keys`, a threshold as `PATCH /practice` validates `alert_overrides`; each writes the
same audit event. A refused change comes back in its section with the reason.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.crud import ItemId, load_or_record_miss, scoped
from remotecare.api.deps import SessionDep
from remotecare.api.errors import ApiError
from remotecare.api.resources import prepare_user
from remotecare.api.routes.alerts import check_overrides
from remotecare.api.schemas.admin import ApiKeyCreate, UserCreate
from remotecare.api.security import new_api_key, token_digest
from remotecare.services.alerting import thresholds
from remotecare.services.record_history import jsonable
from remotecare.store.base import utc_now
from remotecare.store.models import ApiKey, AuditEvent, Practice, Role, User
from remotecare.web.auth import Viewer, action_for, page_for
from remotecare.web.office import clock, not_found, practice_zone
from remotecare.web.render import page

router = APIRouter(include_in_schema=False)
UsersReader = Annotated[Viewer, Depends(page_for("users:read"))]
UsersWriter = Annotated[Viewer, Depends(action_for("users:write"))]
KeysPage = Annotated[Viewer, Depends(page_for("api_keys:manage"))]
KeysWriter = Annotated[Viewer, Depends(action_for("api_keys:manage"))]
PracticeWriter = Annotated[Viewer, Depends(action_for("practice:write"))]
AuditReader = Annotated[Viewer, Depends(page_for("audit:read"))]

AUDIT_PAGE = 50


def _validation_text(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "form"
    return f"{field.replace('_', ' ').capitalize()}: {str(first['msg']).removeprefix('Value error, ')}."


# --- users -----------------------------------------------------------------------------------------


def _users_context(session: Session, viewer: Viewer, **extra: Any) -> dict[str, Any]:
    users = list(session.scalars(scoped(User, viewer.principal).order_by(User.active.desc(), User.full_name)))
    return {"tab": "users", "users": users, "roles": list(Role), "notice": None, "error": None, **extra}


@router.get("/app/admin", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, viewer: UsersReader) -> HTMLResponse:
    return page(request, viewer, "admin_users.html", **_users_context(session, viewer))


@router.post("/app/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    session: SessionDep,
    viewer: UsersWriter,
    email: Annotated[str, Form(max_length=254)],
    full_name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=32)],
    password: Annotated[str, Form(max_length=256)],
) -> HTMLResponse:
    """`POST /users`: the same schema, the same duplicate check and password hashing, the same audit event."""
    principal = viewer.principal
    try:
        body = UserCreate(email=email.strip(), full_name=full_name.strip(), role=role, password=password)
        values = prepare_user(session, principal, body.model_dump(), None)
    except ValidationError as invalid:
        return page(
            request,
            viewer,
            "admin_users_section.html",
            422,
            **_users_context(session, viewer, error=_validation_text(invalid)),
        )
    except ApiError as refused:
        message = refused.message.replace("'", "")
        return page(request, viewer, "admin_users_section.html", 422, **_users_context(session, viewer, error=message))
    user = User(**values, practice_id=principal.practice_id)
    session.add(user)
    session.flush()
    audit.record(session, request, principal, action="create", entity="user", entity_id=user.id)
    session.commit()
    notice = f"{user.full_name} ({user.email}) can now log in as {user.role.value.replace('_', ' ')}."
    return page(request, viewer, "admin_users_section.html", **_users_context(session, viewer, notice=notice))


@router.post("/app/admin/users/{item_id}/{change}", response_class=HTMLResponse)
def change_user(
    item_id: ItemId,
    change: str,
    request: Request,
    session: SessionDep,
    viewer: UsersWriter,
    version: Annotated[int, Form(ge=1)],
) -> HTMLResponse:
    """Deactivate (their logins stop working at once) or reactivate a user, as `PATCH /users/{id}` does."""
    if change not in ("deactivate", "reactivate"):
        return not_found(request, viewer, "such change")
    principal = viewer.principal
    try:
        user: User = load_or_record_miss(session, request, principal, User, "user", item_id)
    except ApiError:
        return not_found(request, viewer, "such user")
    active = change == "reactivate"
    error = None
    if user.version != version:
        error = "Someone changed this user since the page was loaded; the list is shown as it is now."
    elif user.id == principal.id and not active:
        error = "You cannot deactivate yourself; ask another admin."
    if error is not None:
        return page(request, viewer, "admin_users_section.html", 409, **_users_context(session, viewer, error=error))
    before = {"active": jsonable(user.active)}
    user.active = active
    session.flush()
    detail = {"before": before, "after": {"active": active}}
    audit.record(session, request, principal, action="update", entity="user", entity_id=item_id, detail=detail)
    session.commit()
    notice = f"{user.full_name} is {'active again' if active else 'deactivated: their logins no longer work'}."
    return page(request, viewer, "admin_users_section.html", **_users_context(session, viewer, notice=notice))


# --- API keys --------------------------------------------------------------------------------------


def _keys_context(session: Session, viewer: Viewer, **extra: Any) -> dict[str, Any]:
    keys = list(session.scalars(scoped(ApiKey, viewer.principal).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id)))
    when = clock(practice_zone(session, viewer.principal.practice_id))
    return {"tab": "keys", "keys": keys, "when": when, "new_key": None, "notice": None, "error": None, **extra}


@router.get("/app/admin/api-keys", response_class=HTMLResponse)
def keys_page(request: Request, session: SessionDep, viewer: KeysPage) -> HTMLResponse:
    return page(request, viewer, "admin_keys.html", **_keys_context(session, viewer))


@router.post("/app/admin/api-keys", response_class=HTMLResponse)
def create_key(
    request: Request, session: SessionDep, viewer: KeysWriter, name: Annotated[str, Form(max_length=200)]
) -> HTMLResponse:
    """`POST /api-keys`: the key is shown here once; only its hash is stored."""
    principal = viewer.principal
    try:
        body = ApiKeyCreate(name=name.strip())
    except ValidationError as invalid:
        context = _keys_context(session, viewer, error=_validation_text(invalid))
        return page(request, viewer, "admin_keys_section.html", 422, **context)
    key, prefix = new_api_key()
    row = ApiKey(
        practice_id=principal.practice_id,
        name=body.name,
        prefix=prefix,
        key_hash=token_digest(key),
        scope=body.scope,
        created_by=principal.id,
    )
    session.add(row)
    session.flush()
    audit.record(session, request, principal, action="create", entity="api_key", entity_id=row.id)
    session.commit()
    return page(request, viewer, "admin_keys_section.html", **_keys_context(session, viewer, new_key=(row, key)))


@router.post("/app/admin/api-keys/{item_id}/revoke", response_class=HTMLResponse)
def revoke_key(item_id: ItemId, request: Request, session: SessionDep, viewer: KeysWriter) -> HTMLResponse:
    """`DELETE /api-keys/{id}`: the key stops working at once."""
    try:
        row: ApiKey = load_or_record_miss(session, request, viewer.principal, ApiKey, "api_key", item_id)
    except ApiError:
        return not_found(request, viewer, "such API key")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
    audit.record(session, request, viewer.principal, action="revoke", entity="api_key", entity_id=item_id)
    session.commit()
    notice = f"The key “{row.name}” is revoked: calls with it are refused from now on."
    return page(request, viewer, "admin_keys_section.html", **_keys_context(session, viewer, notice=notice))


# --- alert thresholds ------------------------------------------------------------------------------


def _thresholds_context(session: Session, viewer: Viewer, **extra: Any) -> dict[str, Any]:
    practice = session.get_one(Practice, viewer.principal.practice_id)
    rules, ignored = thresholds(practice.alert_overrides, practice_id=practice.id)
    return {"tab": "thresholds", "rules": rules, "ignored": ignored, "notice": None, "error": None, **extra}


@router.get("/app/admin/thresholds", response_class=HTMLResponse)
def thresholds_page(request: Request, session: SessionDep, viewer: UsersReader) -> HTMLResponse:
    context = _thresholds_context(session, viewer)
    audit.record(session, request, viewer.principal, action="read", entity="alert_thresholds")
    session.commit()
    return page(request, viewer, "admin_thresholds.html", **context)


@router.post("/app/admin/thresholds", response_class=HTMLResponse)
def change_threshold(
    request: Request,
    session: SessionDep,
    viewer: PracticeWriter,
    rule: Annotated[str, Form(max_length=64)],
    limit: Annotated[str, Form(max_length=32)],
) -> HTMLResponse:
    """`PATCH /practice` with the practice's alert overrides, this rule's limit changed."""
    practice = session.get_one(Practice, viewer.principal.practice_id)
    overrides = {name: dict(settings) for name, settings in (practice.alert_overrides or {}).items()}
    try:
        number = float(limit)
    except ValueError:
        number = None
    if number is None:
        error = f"Limit: “{limit}” is not a number."
        return page(
            request, viewer, "admin_thresholds_section.html", 422, **_thresholds_context(session, viewer, error=error)
        )
    overrides.setdefault(rule, {})["limit"] = int(number) if number.is_integer() else number
    try:
        check_overrides("alert_overrides", overrides)
    except ApiError as refused:
        context = _thresholds_context(session, viewer, error=refused.message)
        return page(request, viewer, "admin_thresholds_section.html", 422, **context)
    practice.alert_overrides = overrides
    changes = {"alert_overrides": overrides}
    audit.record(
        session, request, viewer.principal, action="update", entity="practice", entity_id=practice.id, detail=changes
    )
    session.commit()
    notice = f"{rule} now fires at {number:g} for the practice's new readings (a patient's own limit still wins)."
    return page(request, viewer, "admin_thresholds_section.html", **_thresholds_context(session, viewer, notice=notice))


# --- the audit trail -------------------------------------------------------------------------------


@router.get("/app/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    viewer: AuditReader,
    entity: Annotated[str, Query(max_length=40)] = "",
    action: Annotated[str, Query(max_length=16)] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The latest events first, filtered by entity and action, a page at a time (`GET /audit-events`)."""
    query = scoped(AuditEvent, viewer.principal)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if action:
        query = query.where(AuditEvent.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = list(
        session.scalars(query.order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE).offset((number - 1) * AUDIT_PAGE))
    )
    practice_id = viewer.principal.practice_id
    entities, actions = (
        list(session.scalars(select(column).where(AuditEvent.practice_id == practice_id).distinct().order_by(column)))
        for column in (AuditEvent.entity, AuditEvent.action)
    )
    return page(
        request,
        viewer,
        "admin_audit.html",
        tab="audit",
        events=events,
        total=total,
        number=number,
        pages=max(1, -(-total // AUDIT_PAGE)),
        entity=entity,
        action=action,
        entities=entities,
        actions=actions,
        when=clock(practice_zone(session, practice_id)),
    )
