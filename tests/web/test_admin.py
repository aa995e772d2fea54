"""An admin in a real browser: an API key shown once, and the audit trail with a biller's approval in it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from remotecare.api.security import API_KEY_PREFIX
from remotecare.store.models import Role
from tests.web.conftest import Site, log_in


def test_an_admin_creates_an_api_key_and_sees_it_only_once(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Acme cuffs")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key")
    expect(key).to_contain_text(API_KEY_PREFIX)
    secret = key.inner_text().strip()
    expect(page.get_by_role("rowheader", name="Acme cuffs")).to_be_visible()
    shot(page, "shown-once")
    page.reload()
    expect(page.get_by_role("rowheader", name="Acme cuffs")).to_be_visible()
    assert secret not in page.content()


def test_the_audit_trail_shows_a_billers_approval(page: Page, site: Site, shot: Callable[[Page, str], Path]) -> None:
    log_in(page, site, Role.BILLER)
    page.get_by_role("button", name="Approve 99457 for Baker, Billed").click()
    expect(page.locator(".badge.approved")).to_have_count(1)
    page.get_by_role("button", name="Log out").click()

    log_in(page, site, Role.ADMIN)
    page.goto("/app/admin/audit")
    page.get_by_label("Record type").select_option("claim_line")
    page.get_by_label("Action").select_option("update")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr").first
    expect(row.get_by_role("rowheader")).to_contain_text(site.clinic.emails[Role.BILLER])
    expect(row).to_contain_text("approved")
    shot(page, "audit-trail")


def test_an_admin_adds_a_user_and_changes_an_alert_limit(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.ADMIN)
    page.goto("/app/admin")
    page.get_by_label("Full name").fill("Synthetic New Nurse")
    page.get_by_label("E-mail").fill("new.nurse@browser.example")
    page.get_by_label("Role").select_option("clinical_staff")
    page.get_by_label("First password").fill("a long synthetic passphrase")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text("can now log in as clinical staff")
    expect(page.get_by_role("rowheader", name="Synthetic New Nurse")).to_be_visible()
    shot(page, "users")

    page.get_by_role("link", name="Alert thresholds").click()
    page.get_by_label("Rule", exact=True).select_option("systolic_high")
    page.get_by_label("New limit").fill("-5")
    page.get_by_role("button", name="Save limit").click()
    expect(page.get_by_role("alert")).to_contain_text("must be above 0")
    page.get_by_label("New limit").fill("175")
    page.get_by_role("button", name="Save limit").click()
    expect(page.get_by_role("status")).to_contain_text("systolic_high now fires at 175")
    row = page.locator("tr", has=page.get_by_role("rowheader", name="systolic_high"))
    expect(row).to_contain_text("175 mmHg")
    expect(row).to_contain_text("Practice")
    shot(page, "thresholds")
