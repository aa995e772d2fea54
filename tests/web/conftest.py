"""The web interface in a real browser: Debian's Chromium driven by Playwright against the server on
localhost, on the database `tests/databases.py` chooses. Never downloads a browser.

Each test gets a fresh database seeded with the browser clinic (`seed.py`), a server on a free port,
and a new browser context; `shot(page, name)` saves a screenshot under `test-screenshots/` (or
$REMOTECARE_SCREENSHOTS).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy.orm import Session

from remotecare.api.app import create_app
from remotecare.config import Settings
from remotecare.store.models import Role
from remotecare.store.session import make_engine
from tests.web.seed import PASSWORD, Clinic, seed_clinic

CHROMIUM = os.environ.get("REMOTECARE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("REMOTECARE_SCREENSHOTS", Path(__file__).parents[2] / "test-screenshots"))


@dataclass
class Site:
    url: str
    clinic: Clinic
    database_url: str


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does: apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield launched
    launched.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        clinic = seed_clinic(session)
    engine.dispose()
    app = create_app(Settings(database_url=database_url, cookie_secure=False))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield Site(f"http://127.0.0.1:{port}", clinic, database_url)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, viewport={"width": 1366, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot named after the test (and `name`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str = "") -> Path:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name + (f"-{name}" if name else ""))
        path = SCREENSHOTS / f"{stem}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page: Page, site: Site, role: Role) -> None:
    page.goto("/app/login")
    page.get_by_label("E-mail").fill(site.clinic.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
