"""A biller's month in a real browser: approve a line, download the export, the revenue chart, the self-audit."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from remotecare.store.models import Enrollment, Patient, Role
from remotecare.store.session import make_engine
from tests.web.conftest import Site, log_in


def complete_for_claims(site: Site, family: str) -> None:
    """The seed's patients lack what a claim needs (sex, address); the export names such gaps and refuses."""
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        session.execute(
            update(Patient)
            .where(Patient.id == site.clinic.patients[family])
            .values(sex="F", address_line1="2 Synthetic Lane", city="Springfield", state="IL", postal_code="62701")
        )
        session.commit()
    engine.dispose()


def test_a_biller_approves_one_of_bakers_lines_and_downloads_the_csv_naming_it(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    complete_for_claims(site, "Baker")
    log_in(page, site, Role.BILLER)  # a biller starts on billing, last month, proposed lines
    expect(page.get_by_role("heading", name="Billing ·")).to_be_visible()
    approve = page.get_by_role("button", name="Approve 99454 for Baker, Billed")
    row = page.locator("tbody tr", has=page.get_by_text("99454", exact=True))
    expect(row).to_contain_text("30 days with data")
    expect(row.get_by_role("link", name="Evidence packet")).to_be_visible()
    shot(page, "proposed")

    approve.click()
    expect(row.locator(".badge.approved")).to_have_text("Approved")
    expect(row.get_by_role("button", name="Back to proposed")).to_be_visible()
    shot(page, "approved")

    exports = page.get_by_role("region", name="Export approved lines")
    expect(exports).to_contain_text("1 approved line in the practice")  # counted again after the approval
    page.get_by_label("Format").select_option("csv")
    with page.expect_download(timeout=30_000) as download_info:  # the machine may be busy
        page.get_by_role("button", name="Download export").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert "99454" in text and "Baker" in text
    assert "99453" not in text  # still proposed: not exported

    page.get_by_label("Status").select_option("all")
    page.get_by_role("button", name="Show").click()
    exported = page.locator("tbody tr", has=page.get_by_text("99454", exact=True))
    expect(exported.locator(".badge.exported")).to_have_text("Exported")
    shot(page, "exported")


def test_a_biller_opens_a_lines_evidence_packet(page: Page, site: Site, shot: Callable[[Page, str], Path]) -> None:
    log_in(page, site, Role.BILLER)
    page.get_by_role("link", name="Evidence packet for line").first.click()
    expect(page.get_by_role("heading", name="Claim line")).to_be_visible()
    expect(page.get_by_text("Baker, Billed")).to_be_visible()
    shot(page, "packet")
    page.get_by_role("link", name="Back to billing").click()
    expect(page.get_by_role("heading", name="Billing ·")).to_be_visible()


def forget_ordering_provider(site: Site, family: str) -> None:
    """An enrollment without its ordering provider: the self-audit's check 7 finds its lines."""
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        session.execute(
            update(Enrollment)
            .where(Enrollment.patient_id == site.clinic.patients[family])
            .values(ordering_provider_id=None)
        )
        session.commit()
    engine.dispose()


def test_a_biller_sees_the_revenue_chart_and_the_self_audit(
    page: Page, site: Site, shot: Callable[[Page, str], Path]
) -> None:
    forget_ordering_provider(site, "Baker")
    log_in(page, site, Role.BILLER)
    page.get_by_role("link", name="Revenue").click()
    chart = page.locator("svg.chart")
    expect(chart).to_have_attribute("aria-label", re.compile(r"^Revenue for \w+ \d{4} by program and code"))
    expect(chart.locator("title").first).to_contain_text("Revenue for")
    table = page.get_by_role("table")
    expect(table.get_by_role("rowheader", name="99454")).to_be_visible()
    expect(table).to_contain_text("$")
    shot(page, "revenue")

    page.get_by_role("link", name="Compliance self-audit").click()
    expect(page.get_by_role("heading", name="Compliance self-audit of Browser Family Medicine")).to_be_visible()
    expect(page.get_by_role("rowheader", name="1. Sudden increase in new RPM enrollees")).to_be_visible()
    page.get_by_role("link", name="7. RPM lines without the ordering provider").click()
    finding = page.get_by_role("region", name="7. RPM lines without the ordering provider")
    expect(finding.get_by_role("link", name="Baker, Billed")).to_have_attribute(
        "href", f"/app/patients/{site.clinic.patients['Baker']}"
    )
    line_links = finding.get_by_role("link", name=re.compile(r"^line \d+$"))
    expect(line_links.first).to_have_attribute("href", re.compile(r"^/app/billing/lines/\d+/evidence$"))
    shot(page, "self-audit")


def test_a_physician_reads_billing_but_cannot_approve(page: Page, site: Site) -> None:
    log_in(page, site, Role.PHYSICIAN)
    page.goto("/app/billing")
    expect(page.get_by_role("link", name="Baker, Billed").first).to_be_visible()
    expect(page.get_by_role("button", name="Approve 99454 for Baker, Billed")).to_have_count(0)
    expect(page.get_by_text("Your role may read claim lines but not export them.")).to_be_visible()
