"""Care plans through the API: every saved state a version with who changed what, the elements CMS requires
listed while missing, bad goals refused naming the field; scoped to the practice and audited."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import World, count_rows

GOAL = {"description": "Home blood pressure under 130/80", "target_date": "2025-06-30"}
INTERVENTION = {"description": "Weekly call to review home readings", "responsible": "RN care manager"}


def _plan(client: TestClient, world: World, who: str = "a:physician", **fields: Any) -> dict[str, Any]:
    body = {"patient_id": world.patients["a1"], "program": "CCM", **fields}
    response = client.post("/care-plans", json=body, headers=world.headers(who))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_every_save_is_a_version_with_who_changed_what(client: TestClient, world: World) -> None:
    plan = _plan(client, world, problems=["I10 Hypertension"], goals=[GOAL])
    assert plan["goals"] == [GOAL] and plan["version"] == 1
    first = client.patch(
        f"/care-plans/{plan['id']}",
        json={"version": 1, "interventions": [INTERVENTION], "strengths": ["Walks daily"]},
        headers=world.headers("a:clinical_staff"),
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2
    goals = [GOAL, {"description": "Lose 3 kg", "target_date": None}]
    second = client.patch(
        f"/care-plans/{plan['id']}",
        json={"version": 2, "goals": goals, "review_date": "2025-04-01"},
        headers=world.headers("a:admin"),
    )
    assert second.status_code == 200, second.text
    assert second.json()["goals"] == goals and second.json()["version"] == 3

    response = client.get(f"/care-plans/{plan['id']}/versions", headers=world.headers("a:physician"))
    assert response.status_code == 200, response.text
    versions = response.json()
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [(v["changed_by"], v["changed_by_name"]) for v in versions] == [
        (world.users["a:physician"], "a:physician"),
        (world.users["a:clinical_staff"], "a:clinical_staff"),
        (world.users["a:admin"], "a:admin"),
    ]
    assert versions[0]["changes"] == {
        "patient_id": {"from": None, "to": world.patients["a1"]},
        "program": {"from": None, "to": "CCM"},
        "problems": {"from": None, "to": ["I10 Hypertension"]},
        "goals": {"from": None, "to": [GOAL]},
    }
    assert versions[1]["changes"] == {
        "interventions": {"from": [], "to": [INTERVENTION]},
        "strengths": {"from": [], "to": ["Walks daily"]},
    }
    assert versions[2]["changes"] == {
        "goals": {"from": [GOAL], "to": goals},
        "review_date": {"from": None, "to": "2025-04-01"},
    }
    assert versions[1]["snapshot"]["goals"] == [GOAL] and versions[2]["snapshot"]["review_date"] == "2025-04-01"
    assert versions[2]["snapshot"]["interventions"] == [INTERVENTION]


def test_a_stale_version_is_refused_and_makes_no_version(client: TestClient, world: World, engine: Engine) -> None:
    plan = _plan(client, world, problems=["I10"])
    headers = world.headers("a:physician")
    assert client.patch(f"/care-plans/{plan['id']}", json={"version": 1, "goals": [GOAL]}, headers=headers).is_success
    stale = client.patch(f"/care-plans/{plan['id']}", json={"version": 1, "problems": ["E11.9"]}, headers=headers)
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["field"] == "version"
    assert count_rows(engine, "care_plan_versions") == 2
    assert client.get(f"/care-plans/{plan['id']}", headers=headers).json()["problems"] == ["I10"]


def test_an_update_that_changes_nothing_makes_no_new_version(client: TestClient, world: World) -> None:
    plan = _plan(client, world, problems=["I10"])
    headers = world.headers("a:physician")
    same = client.patch(f"/care-plans/{plan['id']}", json={"version": 1, "problems": ["I10"]}, headers=headers)
    assert same.status_code == 200, same.text
    assert same.json()["version"] == 1
    versions = client.get(f"/care-plans/{plan['id']}/versions", headers=headers).json()
    assert [v["version"] for v in versions] == [1]


def test_missing_elements_are_listed_not_refused(client: TestClient, world: World) -> None:
    headers = world.headers("a:physician")
    plan = _plan(client, world, problems=["I10"])
    assert plan["missing_elements"] == ["goals", "interventions"]
    undated = client.patch(
        f"/care-plans/{plan['id']}",
        json={"version": 1, "goals": [{"description": "Feel steadier on stairs"}], "interventions": [INTERVENTION]},
        headers=headers,
    ).json()
    assert undated["missing_elements"] == ["goals.target_date"]
    assert undated["goals"] == [{"description": "Feel steadier on stairs", "target_date": None}]
    dated = client.patch(f"/care-plans/{plan['id']}", json={"version": 2, "goals": [GOAL]}, headers=headers).json()
    assert dated["missing_elements"] == []

    # A CPM plan is person-centered: strengths and desired outcomes too.
    cpm = _plan(client, world, program="CPM", problems=["G89.4 Chronic pain syndrome"])
    assert cpm["missing_elements"] == ["goals", "interventions", "strengths", "desired_outcomes"]
    complete = _plan(
        client,
        world,
        program="CPM",
        problems=["G89.4"],
        goals=[GOAL],
        interventions=[INTERVENTION],
        strengths=["Supportive family"],
        desired_outcomes=["Walk to church"],
    )
    assert complete["missing_elements"] == []
    assert _plan(client, world, program="RPM")["missing_elements"] == []
    listed = client.get("/care-plans", params={"program": "CPM"}, headers=headers).json()["items"]
    assert [item["missing_elements"] for item in listed] == [cpm["missing_elements"], []]


def test_bad_goals_and_interventions_are_refused_naming_the_field(client: TestClient, world: World) -> None:
    headers = world.headers("a:physician")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"goals": [GOAL, {"description": "   "}]}, "goals[1].description"),
        ({"goals": [{"description": "x" * 501}]}, "goals[0].description"),
        ({"goals": [{"description": "Walk", "target_date": "next spring"}]}, "goals[0].target_date"),
        ({"goals": ["Walk more"]}, "goals[0]"),
        ({"interventions": [{"description": "Call weekly"}]}, "interventions[0].responsible"),
        ({"interventions": [{"description": "", "responsible": "RN"}]}, "interventions[0].description"),
        ({"problems": ["I10", ""]}, "problems[1]"),
        ({"strengths": [""]}, "strengths[0]"),
        ({"desired_outcomes": ["ok", " "]}, "desired_outcomes[1]"),
    ]
    for fields, field in cases:
        body = {"patient_id": world.patients["a1"], "program": "CCM", **fields}
        response = client.post("/care-plans", json=body, headers=headers)
        assert response.status_code == 422, (fields, response.text)
        assert response.json()["error"]["field"] == field, (fields, response.text)
    plan = _plan(client, world)
    bad = client.patch(
        f"/care-plans/{plan['id']}", json={"version": 1, "goals": [GOAL, {"description": ""}]}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "goals[1].description", bad.text
    null = client.patch(f"/care-plans/{plan['id']}", json={"version": 1, "goals": None}, headers=headers)
    assert null.status_code == 422 and null.json()["error"]["field"] == "goals", null.text


def test_a_biller_may_read_plans_and_versions_but_not_write(client: TestClient, world: World) -> None:
    plan = _plan(client, world, problems=["I10"])
    biller = world.headers("a:biller")
    assert client.get(f"/care-plans/{plan['id']}", headers=biller).status_code == 200
    assert client.get(f"/care-plans/{plan['id']}/versions", headers=biller).status_code == 200
    body = {"patient_id": world.patients["a1"], "program": "CCM"}
    assert client.post("/care-plans", json=body, headers=biller).status_code == 403
    patch = client.patch(f"/care-plans/{plan['id']}", json={"version": 1, "problems": []}, headers=biller)
    assert patch.status_code == 403


def test_another_practices_plan_answers_404(client: TestClient, world: World) -> None:
    body = {"patient_id": world.patients["b1"], "program": "CCM", "problems": ["I10"]}
    theirs = client.post("/care-plans", json=body, headers=world.headers("b:admin")).json()
    response = client.get(f"/care-plans/{theirs['id']}/versions", headers=world.headers("a:admin"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get(f"/care-plans/{theirs['id']}/versions", headers=world.headers("b:admin")).status_code == 200
    # A plan for another practice's patient cannot be made.
    refused = client.post("/care-plans", json=body, headers=world.headers("a:admin"))
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "patient_id"


def test_writes_and_history_reads_are_audited(client: TestClient, world: World) -> None:
    plan = _plan(client, world, problems=["I10"])
    headers = world.headers("a:physician")
    client.patch(f"/care-plans/{plan['id']}", json={"version": 1, "goals": [GOAL]}, headers=headers)
    client.get(f"/care-plans/{plan['id']}/versions", headers=headers)
    client.get("/care-plans/999999/versions", headers=headers)
    trail = client.get("/audit-events", headers=world.headers("a:admin")).json()["items"]
    events = [(e["action"], e["entity"], e["entity_id"]) for e in reversed(trail)][-4:]
    assert events == [
        ("create", "care_plan", str(plan["id"])),
        ("update", "care_plan", str(plan["id"])),
        ("list", "care_plan_version", None),
        ("not_found", "care_plan", "999999"),
    ]
    listed = next(e for e in trail if e["entity"] == "care_plan_version")
    assert listed["detail"]["query"] == {"care_plan_id": plan["id"]} and len(listed["detail"]["ids"]) == 2
    assert listed["actor_label"] == "a.physician@example.test"
