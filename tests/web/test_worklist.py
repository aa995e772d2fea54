"""The worklist in a real browser: most urgent first, filtered by program and care manager."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from remotecare.store.models import Role
from tests.web.conftest import Site, log_in


def patients_listed(page: Page) -> set[str]:
    return set(page.locator("table.worklist tbody th[scope=row]").all_inner_texts())


def test_the_patient_closest_to_missing_16_days_comes_first(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.CLINICAL_STAFF)
    expect(page).to_have_url(f"{site.url}/app/worklist")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    first = page.locator("table.worklist tbody tr").first
    expect(first.get_by_role("rowheader")).to_have_text("Rivera, Risk")
    expect(first.locator(".badge")).to_have_text("At risk")
    expect(first.get_by_role("progressbar")).to_have_attribute("aria-label", "6 / 16 days")
    expect(first).to_contain_text("10 days left, next reading by")
    expect(first).to_contain_text("1 open")  # the alert the high reading opened
    shot(page, "")


def test_filtering_by_program_and_care_manager_changes_the_rows(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    log_in(page, site, Role.CLINICAL_STAFF)
    assert patients_listed(page) == {
        "Rivera, Risk",
        "Tran, Track",
        "Moreno, Met",
        "Garcia, Gap",
        "Baker, Billed",
        "Chen, Care",
    }

    page.get_by_label("Program").select_option("CCM")
    expect(page).to_have_url(re.compile(r"/app/worklist\?program=CCM"))  # htmx pushed the filter to the address
    expect(page.locator("table.worklist tbody tr")).to_have_count(1)
    expect(page.locator("table.worklist tbody th[scope=row]")).to_have_text("Chen, Care")
    expect(page.locator("table.worklist tbody tr").first).to_contain_text("12 / 20 min")
    shot(page, "ccm")

    page.get_by_label("Program").select_option("")
    expect(page.locator("table.worklist tbody tr")).to_have_count(11)
    page.get_by_label("Care manager").select_option(label="Synthetic Clinical Staff")
    expect(page.locator("table.worklist tbody tr")).to_have_count(7)  # no Moreno, no Garcia
    assert patients_listed(page) == {"Rivera, Risk", "Tran, Track", "Baker, Billed", "Chen, Care"}
    shot(page, "care-manager")

    page.reload()  # the address keeps the filters, and the page without htmx shows the same
    expect(page.get_by_label("Care manager")).to_have_value(str(site.clinic.users[Role.CLINICAL_STAFF]))
    assert patients_listed(page) == {"Rivera, Risk", "Tran, Track", "Baker, Billed", "Chen, Care"}
