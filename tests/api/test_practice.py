"""The practice as billing provider: what its claims carry, set by an admin, checked on the way in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World

BILLING = {
    "npi": "1245319599",
    "tax_id": "123456789",
    "place_of_service": "11",
    "payer_name": "Synthetic Medicare Contractor",
    "payer_id": "99999",
    "address_line1": "1 Synthetic Way",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
}


def test_an_admin_sets_the_billing_details_and_every_role_reads_them(client: TestClient, world: World) -> None:
    response = client.patch("/practice", json=BILLING, headers=world.headers("a:admin"))
    assert response.status_code == 200, response.text
    read = client.get("/practice", headers=world.headers("a:biller")).json()
    assert {key: read[key] for key in BILLING} == BILLING
    assert client.get("/practice", headers=world.headers("b:admin")).json()["npi"] is None
    trail = client.get("/audit-events", params={"entity": "practice"}, headers=world.headers("a:admin")).json()
    assert trail["items"][0]["detail"] == BILLING


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"npi": "1234567890"}, "npi"),  # wrong check digit
        ({"npi": "123456789"}, "npi"),
        ({"tax_id": "12-3456789"}, "tax_id"),
        ({"state": "Illinois"}, "state"),
        ({"postal_code": "6270"}, "postal_code"),
        ({"place_of_service": None}, "place_of_service"),
    ],
)
def test_bad_billing_details_are_refused_naming_the_field(
    client: TestClient, world: World, change: dict[str, object], field: str
) -> None:
    response = client.patch("/practice", json=change, headers=world.headers("a:admin"))
    assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text
    assert client.get("/practice", headers=world.headers("a:admin")).json()["npi"] == "1234567893"  # as seeded
