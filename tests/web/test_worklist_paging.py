"""The worklist page shows a large practice a page of rows at a time, in order of urgency, with the totals
of the whole list (no browser needed)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.config import Settings
from remotecare.store.models import AuditEvent, Role
from remotecare.store.session import make_engine
from remotecare.web.routes import worklist as worklist_page
from tests.web.seed import PASSWORD, seed_clinic


def names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/app/patients/\d+">([^<]+)</a>', html)


def test_pages_of_rows_in_order_with_the_whole_lists_totals(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worklist_page, "PAGE_SIZE", 4)
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic = seed_clinic(session)
    app = create_app(Settings(database_url=database_url, cookie_secure=False))
    with TestClient(app) as client:
        login = {"email": clinic.emails[Role.CLINICAL_STAFF], "password": PASSWORD}
        assert client.post("/app/login", data=login, follow_redirects=False).status_code == 303
        first = client.get("/app/worklist").text
        assert len(names(first)) == 4 and names(first)[0] == "Rivera, Risk"  # the most urgent on page 1
        total = int(re.search(r"<strong>(\d+)</strong> open periods", first).group(1))  # type: ignore[union-attr]
        assert total > 8 and "showing 1–4" in first and 'rel="next"' in first
        pages = -(-total // 4)
        last = client.get(f"/app/worklist?page={pages}").text
        assert len(names(last)) == total - 4 * (pages - 1) and 'rel="prev"' in last and 'rel="next"' not in last
        everyone = [
            name for number in range(1, pages + 1) for name in names(client.get(f"/app/worklist?page={number}").text)
        ]
        assert len(everyone) == total
        assert client.get("/app/worklist?page=0").status_code == 400
    with Session(engine) as session:
        shown = session.scalars(select(AuditEvent.detail).where(AuditEvent.entity == "worklist")).all()
    engine.dispose()
    app.state.engine.dispose()
    assert len(shown[0]["ids"]) <= 4 and shown[0]["query"]["page"] == 1  # the trail names what the page showed
