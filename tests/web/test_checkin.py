"""A patient checks in on a phone, in a real browser: the care team makes a link on the patient's page, a
phone-sized Chromium opens it and answers, and the answers appear on the patient's page; a positive PHQ-2
leads to the PHQ-9, whose item 9 above zero shows crisis resources and puts an urgent alert in the queue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy.orm import Session

from remotecare.store.models import Role
from remotecare.store.session import make_engine
from tests.web.conftest import Site, log_in
from tests.web.seed import seed_checkin_patient

PHONE: ViewportSize = {"width": 390, "height": 844}
PEG = {
    "pain on average": "6",
    "enjoyment of life": "5",
    "general activity": "4",
}


@pytest.fixture
def patel(site: Site) -> int:
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        patient_id = seed_checkin_patient(session, site.clinic).id
    engine.dispose()
    return patient_id


@pytest.fixture
def phone(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=site.url, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def make_link(page: Page, site: Site, patient_id: int) -> str:
    log_in(page, site, Role.CLINICAL_STAFF)
    page.goto(f"/app/patients/{patient_id}")
    card = page.get_by_role("region", name="Check-ins")
    expect(card).to_contain_text("No check-ins yet.")
    card.get_by_role("button", name="Create a check-in link").click()
    field = card.get_by_label("New link for the patient")
    expect(field).to_be_visible()
    url = field.input_value()
    assert url.startswith(f"{site.url}/c/")
    return url


def choose(page: Page, question: str, answer: str) -> None:
    group = page.get_by_role("group", name=question)
    group.get_by_label(answer, exact=True).check()


def answer_first_page(page: Page, *, phq2: tuple[str, str] = ("0", "1")) -> None:
    for question, value in PEG.items():
        choose(page, question, value)
    choose(page, "Did you take your Gabapentin 300 mg", "Yes")
    choose(page, "Did you take your Naproxen 500 mg", "No")
    choose(page, "Little interest or pleasure", f"{phq2[0]} {WORDS[int(phq2[0])]}")
    choose(page, "Feeling down, depressed", f"{phq2[1]} {WORDS[int(phq2[1])]}")
    choose(page, "Feeling nervous, anxious", "1 Several days")
    choose(page, "Not being able to stop or control worrying", "0 Not at all")


WORDS = ("Not at all", "Several days", "More than half the days", "Nearly every day")


def test_a_patient_checks_in_on_a_phone_and_the_answers_reach_their_page(
    page: Page, phone: BrowserContext, site: Site, patel: int, shot: Callable[[Page, str], Path]
) -> None:
    url = make_link(page, site, patel)
    shot(page, "link-made")

    mobile = phone.new_page()
    mobile.goto(url)
    expect(mobile.get_by_role("heading", name="Your check-in", level=1)).to_be_visible()
    expect(mobile.get_by_text("Hello, Pain.")).to_be_visible()
    body = mobile.locator("body").inner_text()
    assert "Patel" not in body and "1952" not in body
    # Large targets: every choice's visible box is at least 44 by 44 CSS pixels.
    sizes = mobile.locator(".choice > span").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert sizes and min(min(width, height) for width, height in sizes) >= 44, sizes
    # Nothing wider than the phone: no sideways scrolling.
    assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(mobile, "form")
    # At 200% zoom the phone is half as wide in CSS pixels: everything still fits, nothing scrolls sideways.
    zoomed: ViewportSize = {"width": PHONE["width"] // 2, "height": PHONE["height"] // 2}
    mobile.set_viewport_size(zoomed)
    assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] // 2
    shot(mobile, "form-zoom-200")
    mobile.set_viewport_size(PHONE)

    mobile.get_by_role("button", name="Send my check-in").click()  # nothing answered yet
    expect(mobile.get_by_role("alert")).to_contain_text("Please check these answers")
    answer_first_page(mobile)
    mobile.get_by_label("Anything you want your care team to know?").fill("Back is stiff in the mornings.")
    mobile.get_by_role("button", name="Send my check-in").click()
    expect(mobile.get_by_role("heading", name="Thank you, Pain")).to_be_visible()
    expect(mobile.get_by_text("Help is available")).to_have_count(0)
    shot(mobile, "thanks")

    page.reload()
    card = page.get_by_role("region", name="Check-ins")
    answers = card.locator("table.checkin-answers")
    expect(answers.locator("tr", has_text="PEG (0-10)")).to_contain_text("5 (pain 6, enjoyment 5, activity 4)")
    expect(answers.locator("tr", has_text="Took Gabapentin 300 mg")).to_contain_text("Yes")
    expect(answers.locator("tr", has_text="Took Naproxen 500 mg")).to_contain_text("No")
    expect(answers.locator("tr", has_text="PHQ-2")).to_contain_text("1 negative")
    expect(card).to_contain_text("Check-in page")
    expect(card).to_contain_text("The check-in app counts as the RTM device")
    expect(card.get_by_role("img", name="Pain (0-10), last 90 days")).to_be_visible()
    expect(card.locator("table.checkin-adherence")).to_contain_text("50%")
    expect(card.locator("table.checkin-link-list tbody tr")).to_have_count(1)
    shot(page, "answers")

    card.get_by_role("button", name="Revoke").click()
    expect(card.get_by_role("status")).to_have_text("Link revoked: it no longer opens the check-in.")
    expect(card.get_by_text("No live check-in link.")).to_be_visible()
    response = mobile.goto(url)
    assert response is not None and response.status == 404
    expect(mobile.get_by_role("heading", name="This link no longer works")).to_be_visible()
    shot(mobile, "revoked")


def test_a_positive_phq2_leads_to_the_phq9_and_item_9_shows_crisis_resources_and_an_urgent_alert(
    page: Page, phone: BrowserContext, site: Site, patel: int, shot: Callable[[Page, str], Path]
) -> None:
    url = make_link(page, site, patel)
    mobile = phone.new_page()
    mobile.goto(url)
    answer_first_page(mobile, phq2=("2", "2"))
    mobile.get_by_role("button", name="Send my check-in").click()
    expect(mobile.get_by_role("heading", name="A few more questions")).to_be_visible()
    expect(mobile.get_by_text("Help is available")).to_have_count(0)
    for question in (
        "Trouble falling or staying asleep",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself",
        "Trouble concentrating",
        "Moving or speaking so slowly",
    ):
        choose(mobile, question, "1 Several days")
    choose(mobile, "Thoughts that you would be better off dead", "1 Several days")
    shot(mobile, "phq9")
    mobile.get_by_role("button", name="Send these answers").click()
    crisis = mobile.get_by_role("alert")
    expect(crisis).to_contain_text("988")
    expect(crisis.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(crisis.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    # The resources come before anything else on the page.
    first = mobile.locator("main > *").first
    expect(first).to_have_class("crisis")
    shot(mobile, "crisis")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    row = page.locator("table.alerts tbody tr", has_text="Patel, Pain")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Urgent")
    expect(row).to_contain_text("PHQ-9 item 9")
    expect(page.locator("table.alerts tbody tr").first).to_contain_text("Urgent")
    shot(page, "alerts")

    page.goto(f"/app/patients/{patel}")
    answers = page.get_by_role("region", name="Check-ins").locator("table.checkin-answers")
    expect(answers.locator("tr", has_text="PHQ-9")).to_contain_text("Item 9 above 0")
    shot(page, "patient")
