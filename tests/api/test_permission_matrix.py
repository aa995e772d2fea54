"""Every route, every role: the permission table in `permissions.py` is the one the API enforces.

The routes are found by walking the application, so a new route is checked the
day it is added: one without a permission fails here unless it is public on
purpose (`PUBLIC_PATHS`). Each (route, caller) pair then makes a real request
against one shared world: practice A with one record of every kind, and
practice B with the same, whose records must answer 404 to practice A.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from remotecare.api.app import create_app
from remotecare.api.permissions import API_KEY_SCOPES, PERMISSIONS, PUBLIC_PATHS, SIGNED_PATHS
from remotecare.api.resources import RESOURCES
from remotecare.api.security import new_token, token_digest
from remotecare.config import Settings
from remotecare.store.models import (
    AuthSession,
    CareTeam,
    CareTeamGrant,
    ClaimLine,
    HeldReading,
    Membership,
    Role,
)
from tests.api.conftest import World, seed
from tests.databases import fresh_database

ROLES_OF_A = [f"a:{role.value}" for role in Role]
API_KEY = "a:api_key"
CALLERS = [*ROLES_OF_A, API_KEY]
API_KEY_SCOPE = "ingest"  # what POST /api-keys gives by default


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    permissions: frozenset[str]
    has_body: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def item_param(self) -> str | None:
        found = re.search(r"\{(\w+)\}", self.path)
        return found.group(1) if found else None


def _permissions(dependant: Dependant) -> set[str]:
    """The `.permission` of every dependency callable, however deeply nested."""
    found: set[str] = set()
    permission = getattr(dependant.call, "permission", None)
    if isinstance(permission, str):
        found.add(permission)
    for sub in dependant.dependencies:
        found |= _permissions(sub)
    return found


def _route_contexts(app: FastAPI) -> Iterator[tuple[Any, Any]]:
    """(route, the route as served: full path, methods and dependant) for every route of the app.

    Recent FastAPI (0.165 here) keeps each included router as one entry of
    `app.routes`, so a plain walk of it sees /health and the docs only;
    `iter_route_contexts` yields the routes inside, with their full path and the
    dependencies of the routers they were included through. Older FastAPI copied
    the routes into `app.routes` itself.
    """
    iterate = getattr(routing, "iter_route_contexts", None)
    if iterate is None:
        for route in app.routes:
            yield route, route
        return
    for context in iterate(app.routes):
        yield context.original_route, context


def walk_routes(app: FastAPI) -> tuple[list[RouteSpec], list[str]]:
    """(every API route with its permissions, the paths of the other routes such as /docs)."""
    specs: list[RouteSpec] = []
    others: list[str] = []
    for route, served in _route_contexts(app):
        if isinstance(route, APIRoute) and not route.include_in_schema:
            continue  # the web interface's pages: tests/web checks them by role
        if not isinstance(route, APIRoute):
            path = getattr(served, "path", None)
            if path:
                others.append(path)
            continue
        dependant = served.dependant
        assert isinstance(dependant, Dependant)
        permissions = frozenset(_permissions(dependant))
        has_body = bool(dependant.body_params)
        for method in sorted(served.methods or ()):
            specs.append(RouteSpec(method, str(served.path), permissions, has_body))
    return specs, others


def _collect() -> tuple[list[RouteSpec], list[str]]:
    app = create_app(Settings(database_url="sqlite://", cookie_secure=False))
    try:
        return walk_routes(app)
    finally:
        app.state.engine.dispose()


ROUTES, OTHER_PATHS = _collect()


# --- the table itself ---------------------------------------------------------------------------


def test_the_walk_finds_every_route_of_every_resource() -> None:
    labels = {spec.label for spec in ROUTES}
    expected = {"POST /auth/login", "POST /auth/logout", "GET /auth/me", "GET /practice", "GET /health"}
    expected |= {"GET /api-keys", "POST /api-keys", "DELETE /api-keys/{key_id}", "GET /audit-events"}
    expected |= {"POST /timers", "GET /timers/current", "POST /timers/current/stop", "DELETE /timers/current"}
    expected |= {"GET /outreach", "POST /outreach/reminders", "GET /outbox", "POST /outbox/dispatch"}
    for resource in RESOURCES:
        expected |= {f"GET {resource.path}", f"GET {resource.path}/{{item_id}}"}
        if resource.create is not None:
            expected.add(f"POST {resource.path}")
        if resource.update is not None:
            expected.add(f"PATCH {resource.path}/{{item_id}}")
    assert expected <= labels, f"routes the walk did not find: {sorted(expected - labels)}"


@pytest.mark.parametrize("spec", ROUTES, ids=lambda spec: spec.label)
def test_every_route_names_a_known_permission_or_is_public(spec: RouteSpec) -> None:
    if not spec.permissions:
        assert spec.path in PUBLIC_PATHS, f"{spec.label}: new route has no entry in the permission table"
    unknown = spec.permissions - PERMISSIONS.keys()
    assert not unknown, f"{spec.label}: permission(s) {sorted(unknown)} are not in PERMISSIONS"
    assert len(spec.permissions) <= 1, f"{spec.label}: several permissions {sorted(spec.permissions)}"


def test_routes_that_cannot_carry_a_permission_are_public() -> None:
    assert OTHER_PATHS, "expected the documentation routes"
    for path in OTHER_PATHS:
        assert path in PUBLIC_PATHS, f"{path}: new route has no entry in the permission table"


def test_every_public_path_is_a_route_and_every_scope_names_known_permissions() -> None:
    served = {spec.path for spec in ROUTES} | set(OTHER_PATHS)
    assert served >= PUBLIC_PATHS, f"public paths that are not routes: {sorted(PUBLIC_PATHS - served)}"
    for scope, permissions in API_KEY_SCOPES.items():
        assert permissions <= PERMISSIONS.keys(), f"scope {scope}: unknown {sorted(permissions - PERMISSIONS.keys())}"


def may(caller: str, permissions: frozenset[str]) -> bool:
    """What the table says, computed here rather than by the code under test."""
    role = Role.INTEGRATOR if caller == API_KEY else Role(caller.split(":", 1)[1])
    for permission in permissions:
        if role not in PERMISSIONS[permission]:
            return False
        if caller == API_KEY and permission not in API_KEY_SCOPES[API_KEY_SCOPE]:
            return False
    return True


# --- one shared world with a record of every kind in both practices ------------------------------


@dataclass
class Matrix:
    app: FastAPI
    client: TestClient
    world: World
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # caller -> headers
    ids: dict[str, dict[str, int]] = field(default_factory=lambda: {"a": {}, "b": {}})  # practice -> prefix -> id

    def throwaway_headers(self, caller: str) -> dict[str, str]:
        """A fresh login for `caller`, for a request (logout) that ends the login it uses."""
        if caller == API_KEY:
            return self.headers[caller]
        token = new_token()
        with self.app.state.session_factory() as session:
            session.add(
                AuthSession(
                    user_id=self.world.users[caller],
                    token_hash=token_digest(token),
                    expires_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
                )
            )
            session.commit()
        return {"Authorization": f"Bearer {token}"}


def _created(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, f"setting up {path}: {response.text}"
    return int(response.json()["id"])


def _records(matrix: Matrix, practice: str, clinician: int) -> None:
    """One record of every kind in `practice`, created by its admin."""
    client, world = matrix.client, matrix.world
    headers = world.headers(f"{practice}:admin")
    patient = world.patients[f"{practice}1"]
    ids = matrix.ids[practice]
    ids["/patients"] = patient
    ids["/users"] = clinician
    day = "2025-01-06"
    ids["/consents"] = _created(
        client,
        "/consents",
        {"patient_id": patient, "program": "RPM", "obtained_on": day, "method": "verbal"},
        headers,
    )
    ids["/enrollments"] = _created(
        client, "/enrollments", {"patient_id": patient, "program": "RPM", "start_date": day}, headers
    )
    ids["/encounters"] = _created(
        client, "/encounters", {"patient_id": patient, "date": day, "type": "office visit"}, headers
    )
    ids["/care-plans"] = _created(
        client, "/care-plans", {"patient_id": patient, "program": "CCM", "problems": ["I10"]}, headers
    )
    ids["/devices"] = _created(
        client, "/devices", {"serial": f"SN-{practice}-1", "kind": "bp_cuff", "medical_device": True}, headers
    )
    ids["/device-assignments"] = _created(
        client,
        "/device-assignments",
        {"device_id": ids["/devices"], "patient_id": patient, "program": "RPM", "start_date": day},
        headers,
    )
    ids["/observations"] = _created(
        client,
        "/observations",
        {
            "patient_id": patient,
            "device_id": ids["/devices"],
            "type": "blood_pressure",
            "values": {"systolic": 128, "diastolic": 82},
            "effective_at": "2025-01-07T08:00:00-06:00",
        },
        headers,
    )
    ids["/time-entries"] = _created(
        client,
        "/time-entries",
        {"patient_id": patient, "program": "RPM", "service_date": day, "minutes": 20, "user_id": clinician},
        headers,
    )
    ids["/alerts"] = _created(
        client,
        "/alerts",
        {"patient_id": patient, "observation_id": ids["/observations"], "rule": "bp_high", "severity": "high"},
        headers,
    )
    ids["/api-keys"] = _created(client, "/api-keys", {"name": f"target key of {practice}"}, headers)
    ids["/integrations"] = _created(
        client, "/integrations", {"vendor": "tenovi", "name": f"hub of {practice}"}, headers
    )
    ids["/fhir/Observation"] = ids["/observations"]
    ids["/checkin-links"] = _created(client, f"/patients/{patient}/checkin-links", {}, headers)
    # Claim lines are made by the billing run, not through the API.
    with matrix.app.state.session_factory() as session:
        line = ClaimLine(
            practice_id=world.practice_a if practice == "a" else world.practice_b,
            patient_id=patient,
            enrollment_id=ids["/enrollments"],
            code="99457",
            units=1,
            service_date=dt.date(2025, 2, 4),
            period_start=dt.date(2025, 1, 6),
            period_end=dt.date(2025, 2, 4),
            rules="2025",
            evidence={},
        )
        session.add(line)
        held = HeldReading(
            practice_id=line.practice_id,
            integration_id=ids["/integrations"],
            device_serial=f"UNKNOWN-{practice}",
            type="weight",
            values={"kg": 80.0},
            effective_at=dt.datetime(2025, 1, 7, 14, tzinfo=dt.UTC),
            source="tenovi",
            content_key=f"held-{practice}",
            reason="no device 'UNKNOWN' in this practice",
        )
        session.add(held)
        # A care team's grant and a membership of someone from the other practice, in this practice.
        team = CareTeam(name=f"care team of {practice}")
        session.add(team)
        session.flush()
        grant = CareTeamGrant(practice_id=line.practice_id, care_team_id=team.id, programs=["RPM"])
        other = world.users["b:admin" if practice == "a" else "a:admin"]
        membership = Membership(user_id=other, practice_id=line.practice_id, role=Role.PHYSICIAN)
        session.add_all([grant, membership])
        session.commit()
        ids["/claim-lines"], ids["/held-readings"] = line.id, held.id
        ids["/care-team-grants"], ids["/memberships"] = grant.id, membership.id


@pytest.fixture(scope="module")
def matrix(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    url = fresh_database(database_template, tmp_path_factory.mktemp("matrix"))
    app = create_app(Settings(database_url=url, cookie_secure=False))
    with app.state.session_factory() as session:
        world = seed(session)
    with TestClient(app, raise_server_exceptions=False) as client:
        result = Matrix(app, client, world)
        result.headers = {who: world.headers(who) for who in ROLES_OF_A}
        key = client.post("/api-keys", json={"name": "matrix ingest"}, headers=world.headers("a:admin"))
        assert key.status_code == 201 and key.json()["scope"] == API_KEY_SCOPE, key.text
        result.headers[API_KEY] = {"Authorization": f"Bearer {key.json()['key']}"}
        b_physician = _created(
            client,
            "/users",
            {
                "email": "b.physician@example.com",
                "full_name": "b:physician",
                "role": "physician",
                "password": "another synthetic password",
            },
            world.headers("b:admin"),
        )
        _records(result, "a", world.users["a:physician"])
        _records(result, "b", b_physician)
        yield result
    app.state.engine.dispose()


def _url(spec: RouteSpec, ids: dict[str, int]) -> str:
    if spec.item_param is None:
        return spec.path
    if spec.path in SIGNED_PATHS:
        return spec.path.format(vendor="tenovi", integration_id=ids["/integrations"])
    prefix = spec.path.split("/{", 1)[0]
    assert prefix in ids, f"{spec.label}: no record of this kind was set up; add one to _records"
    return re.sub(r"\{\w+\}", str(ids[prefix]), spec.path)


def _request(matrix: Matrix, spec: RouteSpec, caller: str, practice: str, body: dict[str, Any] | None) -> Any:
    headers = matrix.throwaway_headers(caller) if spec.label == "POST /auth/logout" else matrix.headers[caller]
    send: Callable[..., Any] = matrix.client.request
    kwargs: dict[str, Any] = {"headers": headers}
    if spec.has_body:
        kwargs["json"] = body if body is not None else {}
    return send(spec.method, _url(spec, matrix.ids[practice]), **kwargs)


CASES = [pytest.param(spec, caller, id=f"{spec.label} as {caller}") for spec in ROUTES for caller in CALLERS]


@pytest.mark.parametrize(("spec", "caller"), CASES)
def test_the_route_answers_403_exactly_when_the_table_says_no(matrix: Matrix, spec: RouteSpec, caller: str) -> None:
    # Write routes get an empty body: a permitted caller then sees 422, and nothing is written.
    response = _request(matrix, spec, caller, "a", None)
    assert response.status_code < 500, f"{spec.label} as {caller}: {response.status_code} {response.text}"
    if spec.path in SIGNED_PATHS:  # a login or key is no signature
        assert response.status_code == 401 and error_code(response) == "bad_signature", response.text
    elif may(caller, spec.permissions):
        assert response.status_code not in (401, 403), f"{spec.label} as {caller}: {response.text}"
    else:
        assert response.status_code == 403, f"{spec.label} as {caller}: {response.status_code} {response.text}"
        assert error_code(response) == "forbidden"


# The smallest valid update of each kind, so the answer comes from the lookup and not from validation.
UPDATE_BODIES: dict[str, dict[str, Any]] = {"/claim-lines": {"version": 1, "status": "approved"}}

ITEM_CASES = [
    pytest.param(spec, caller, id=f"{spec.label} as {caller}")
    for spec in ROUTES
    if spec.item_param is not None
    for caller in CALLERS
    if spec.permissions and may(caller, spec.permissions)
]


@pytest.mark.parametrize(("spec", "caller"), ITEM_CASES)
def test_another_practices_record_answers_404(matrix: Matrix, spec: RouteSpec, caller: str) -> None:
    body = UPDATE_BODIES.get(spec.path.split("/{", 1)[0], {"version": 1})
    response = _request(matrix, spec, caller, "b", body)
    assert response.status_code == 404, f"{spec.label} as {caller}: {response.status_code} {response.text}"
    assert error_code(response) == "not_found"


def error_code(response: Any) -> str:
    """Our error code, from {"error": {...}} or, under /fhir, from the OperationOutcome's details."""
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        return str(body["issue"][0]["details"]["coding"][0]["code"])
    return str(body["error"]["code"])
