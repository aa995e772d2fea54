"""The self-audit through the API, on both databases: who may read it, scoped to the caller's practice,
audited with the patients it named, as JSON, CSV and a printable page; and the practice's thresholds."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from remotecare.domain.programs import Program
from remotecare.store.models import AuditEvent, ClaimLine, Enrollment
from tests.api.conftest import World

OCTOBER = {"month": "2026-10"}


def bill_without_ordering_provider(engine: Engine, practice_id: int, patient_id: int) -> int:
    """An RPM line of October whose enrollment names neither the ordering provider nor a condition."""
    with Session(engine) as session:
        enrollment = Enrollment(
            practice_id=practice_id, patient_id=patient_id, program=Program.RPM, start_date=dt.date(2026, 9, 1)
        )
        session.add(enrollment)
        session.flush()
        line = ClaimLine(
            practice_id=practice_id,
            patient_id=patient_id,
            enrollment_id=enrollment.id,
            code="99454",
            units=1,
            service_date=dt.date(2026, 10, 1),
            period_start=dt.date(2026, 9, 2),
            period_end=dt.date(2026, 10, 1),
            rules="2026",
        )
        session.add(line)
        session.commit()
        return line.id


def details_section(body: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in body["sections"] if s["check"] == "missing_claim_details")


def test_a_biller_reads_the_report_and_the_read_names_its_patients(
    client: TestClient, world: World, engine: Engine
) -> None:
    line = bill_without_ordering_provider(engine, world.practice_a, world.patients["a1"])
    bill_without_ordering_provider(engine, world.practice_b, world.patients["b1"])

    response = client.get("/self-audit", params=OCTOBER, headers=world.headers("a:biller"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["practice"] == {"id": world.practice_a, "name": "Prairie Family Medicine"}
    assert [s["check"] for s in body["sections"]][:2] == ["enrollment_spike", "no_prior_relationship"]
    assert body["settings"]["no_management_pct"] == 75
    (finding,) = details_section(body)["findings"]
    assert finding["patient"] == {"id": world.patients["a1"], "name": "Patient a1, Synthetic"}
    assert finding["claim_line_ids"] == [line]
    assert "no ordering provider and no monitored condition" in finding["detail"]
    assert details_section(body)["source"]["number"] == "OEI-02-23-00260"
    with Session(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "self_audit")).one()
    assert (event.practice_id, event.action) == (world.practice_a, "read")
    assert event.detail == {"month": "2026-10", "format": "json", "patient_ids": [world.patients["a1"]]}


def test_another_practice_sees_only_its_own_findings(client: TestClient, world: World, engine: Engine) -> None:
    bill_without_ordering_provider(engine, world.practice_a, world.patients["a1"])
    body = client.get("/self-audit", params=OCTOBER, headers=world.headers("b:admin")).json()
    assert body["practice"]["id"] == world.practice_b
    assert all(section["none_found"] for section in body["sections"])


def test_care_staff_without_claims_read_are_refused_and_strangers_unauthenticated(
    client: TestClient, world: World
) -> None:
    for path in ("/self-audit", "/self-audit.csv", "/self-audit.html"):
        refused = client.get(path, params=OCTOBER, headers=world.headers("a:clinical_staff"))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert client.get(path, params=OCTOBER).status_code == 401


def test_a_bad_month_is_refused_naming_it(client: TestClient, world: World) -> None:
    for month in ("2026-13", "october", "2026-1"):
        for path in ("/self-audit", "/self-audit.csv"):
            response = client.get(path, params={"month": month}, headers=world.headers("a:admin"))
            assert response.status_code == 422 and response.json()["error"]["field"] == "month", response.text
    missing = client.get("/self-audit", headers=world.headers("a:admin"))
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "month"


def test_the_report_downloads_as_csv_and_as_a_printable_page(client: TestClient, world: World, engine: Engine) -> None:
    line = bill_without_ordering_provider(engine, world.practice_a, world.patients["a1"])
    response = client.get("/self-audit.csv", params=OCTOBER, headers=world.headers("a:physician"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    (row,) = [r for r in rows if r["check"] == "missing_claim_details"]
    assert (row["patient_id"], row["patient_name"], row["claim_line_ids"]) == (
        str(world.patients["a1"]),
        "Patient a1, Synthetic",
        str(line),
    )
    assert "OEI-02-23-00260" in row["source"]
    assert {r["check"] for r in rows if r["detail"] == "None found."} >= {"several_practices", "enrollment_spike"}

    page = client.get("/self-audit.html", params=OCTOBER, headers=world.headers("a:physician"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "@media print" in page.text and "Patient a1, Synthetic" in page.text
    # The one line also has no prior visit and no management behind it: three checks find it, six find none.
    assert "OEI-02-23-00261" in page.text and page.text.count("None found.") == 6
    assert "http://" not in page.text and "https://" not in page.text  # nothing fetched from elsewhere
    with Session(engine) as session:
        formats = [
            e.detail["format"] for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "self_audit"))
        ]
    assert formats == ["csv", "html"]


def test_an_admin_sets_the_thresholds_and_they_are_used(client: TestClient, world: World) -> None:
    admin = world.headers("a:admin")
    changed = client.patch("/practice", json={"audit_settings": {"no_management_pct": 60}}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert client.get("/practice", headers=world.headers("a:biller")).json()["audit_settings"] == {
        "no_management_pct": 60
    }
    settings = client.get("/self-audit", params=OCTOBER, headers=admin).json()["settings"]
    assert (settings["no_management_pct"], settings["spike_increase_pct"]) == (60, 150)
    assert client.get("/practice", headers=world.headers("b:admin")).json()["audit_settings"] == {}


def test_bad_thresholds_are_refused_naming_the_setting(client: TestClient, world: World) -> None:
    admin = world.headers("a:admin")
    for settings, field in (
        ({"no_management_pct": 120}, "audit_settings.no_management_pct"),
        ({"no_management_pct": "75"}, "audit_settings.no_management_pct"),
        ({"spike_percent": 150}, "audit_settings.spike_percent"),
        ({"prior_relationship_since": "2021-13-01"}, "audit_settings.prior_relationship_since"),
        (None, "audit_settings"),
    ):
        response = client.patch("/practice", json={"audit_settings": settings}, headers=admin)
        assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text
    assert client.get("/practice", headers=admin).json()["audit_settings"] == {}


def test_an_enrollment_names_its_ordering_provider_and_monitored_conditions(client: TestClient, world: World) -> None:
    """What the OIG asked CMS to require on claims, and the self-audit looks for, is kept on the enrollment."""
    admin = world.headers("a:admin")
    body = {"patient_id": world.patients["a1"], "program": "RPM", "start_date": "2026-10-01"}
    created = client.post(
        "/enrollments",
        json={**body, "ordering_provider_id": world.users["a:physician"], "monitored_conditions": ["I10", "E11.9"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert (created.json()["ordering_provider_id"], created.json()["monitored_conditions"]) == (
        world.users["a:physician"],
        ["I10", "E11.9"],
    )
    bad_code = client.post("/enrollments", json={**body, "monitored_conditions": ["hypertension"]}, headers=admin)
    assert bad_code.status_code == 422 and bad_code.json()["error"]["field"].startswith("monitored_conditions")
    elsewhere = client.post(
        "/enrollments", json={**body, "ordering_provider_id": world.users["b:admin"]}, headers=admin
    )
    assert (elsewhere.status_code, elsewhere.json()["error"]["field"]) == (422, "ordering_provider_id")
    fixed = client.patch(
        f"/enrollments/{created.json()['id']}", json={"version": 1, "monitored_conditions": ["I50.9"]}, headers=admin
    )
    assert fixed.status_code == 200 and fixed.json()["monitored_conditions"] == ["I50.9"]
