"""A care manager triages an alert in a real browser: acknowledge, resolve with a note, off the queue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from remotecare.store.models import Role
from tests.web.conftest import Site, log_in


def test_a_care_manager_acknowledges_then_resolves_riveras_alert_with_a_note(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.CLINICAL_STAFF)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    row = page.locator(f"#alert-{site.clinic.alerts[0]}")
    expect(row.get_by_role("link", name="Rivera, Risk")).to_have_attribute(
        "href", f"/app/patients/{site.clinic.patients['Rivera']}"
    )
    expect(row).to_contain_text("Urgent")
    expect(row).to_contain_text("186 / 180 mmHg")
    shot(page, "queue")

    row.get_by_role("button", name="Acknowledge").click()
    expect(row.locator(".badge.acknowledged")).to_have_text("Acknowledged")
    row.get_by_role("button", name="Resolve").click()  # no note yet
    expect(row.get_by_role("alert")).to_contain_text("Write a note saying how the alert was handled")
    expect(row.locator(".badge.acknowledged")).to_be_visible()
    shot(page, "note-needed")

    row.get_by_label("Note").fill("Called her: she had skipped her morning dose; repeat reading 138/84.")
    row.get_by_role("button", name="Resolve").click()
    expect(row.locator(".badge.resolved")).to_have_text("Resolved")
    expect(row).to_contain_text("skipped her morning dose")
    expect(row.get_by_role("button", name="Reopen")).to_be_visible()
    shot(page, "resolved")

    page.reload()
    expect(page.get_by_text("No alerts to handle.")).to_be_visible()
    page.get_by_role("link", name="Resolved", exact=True).click()
    expect(page.get_by_role("link", name="Rivera, Risk")).to_be_visible()
    shot(page, "resolved-list")


def test_the_alert_queue_is_keyboard_usable(page: Page, site: Site, shot: Callable[[Page, str], Path]) -> None:
    log_in(page, site, Role.PHYSICIAN)
    page.goto("/app/alerts")
    note = page.get_by_label("Note")
    note.focus()
    page.keyboard.press("Tab")  # to Acknowledge
    expect(page.get_by_role("button", name="Acknowledge")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".badge.acknowledged")).to_have_text("Acknowledged")
