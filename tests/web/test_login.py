"""Logging in and out, and pages shown by role, in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from remotecare.store.models import Role
from tests.web.conftest import Site, log_in
from tests.web.seed import PASSWORD


def test_a_wrong_password_is_refused_and_the_right_one_lets_in_then_out(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    page.goto("/app/worklist")
    expect(page).to_have_url(f"{site.url}/app/login?next=/app/worklist")
    page.get_by_label("E-mail").fill(site.clinic.emails[Role.CLINICAL_STAFF])
    page.get_by_label("Password").fill("not the passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("The e-mail or password is wrong.")
    shot(page, "refused")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{site.url}/app/worklist")  # back where it was going
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{site.url}/app/login")
    page.goto("/app/worklist")
    expect(page).to_have_url(f"{site.url}/app/login?next=/app/worklist")


def test_clinical_staff_do_not_see_billing_or_admin(page: Page, site: Site, shot: Callable[[Page, str], Path]) -> None:
    log_in(page, site, Role.CLINICAL_STAFF)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Worklist")).to_be_visible()
    expect(nav.get_by_role("link", name="Alerts")).to_be_visible()
    expect(nav.get_by_role("link", name="Billing")).to_have_count(0)
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    response = page.goto("/app/billing")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
    shot(page, "billing-refused")
