"""The patient's check-in pages, reached by a per-patient link: the token in the address is the credential.

No staff login. An unknown, expired or revoked token answers the same 404 page, saying only that the link
no longer works (never whether it existed). The form greets the patient by first name and shows nothing
else about them; it is a plain server-rendered form that works without JavaScript.

A submission is recorded at once (`services.checkins.record_checkin`). When a screen is positive (PHQ-2,
GAD-2) the answers are already stored and a second page asks the follow-up questionnaire (PHQ-9, GAD-7),
recorded as a second submission; the follow-up groups travel as hidden fields, checked against the groups
that follow up, never the answers. A crisis (PHQ-9 item 9 above zero, or a reply matching a crisis pattern)
puts the crisis resources first on the page. Each submission is audited as the patient's, by link, naming
the observations stored and never the answers.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from remotecare.api import audit
from remotecare.api.deps import SessionDep
from remotecare.domain.questionnaires import ANSWER_LABELS, CRISIS_RESOURCES
from remotecare.services import checkins
from remotecare.services.checkin_links import resolve_link
from remotecare.store.base import utc_now
from remotecare.store.models import CheckinLink, Patient
from remotecare.web.render import TEMPLATES

router = APIRouter(include_in_schema=False)

MAX_TOKEN = 256  # longer than any token issued: answered as unknown without a look-up
MAX_FIELDS = 120  # more form fields than any check-in has questions
FREE_TEXT_MAX = 2000
ACTOR = "patient via check-in link"
# What keeps a patient's page out of caches, search engines and other sites' logs.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}

# End-point anchors of the 0-10 scales where the question's wording gives none, and where it gives only 0.
DEFAULT_ANCHORS = ("none", "the most")
PAIN_TOP = "worst imaginable"
# "(0 = no pain, 10 = pain as bad as you can imagine)" at the end of a question: shown by the buttons instead.
ANCHORED = re.compile(r"\s*\(0 = (?P<low>[^,)]+)(?:, 10 = (?P<high>[^)]+))?\)\s*$")
# Positive answers to both screens: what `follow_ups` needs to name every follow-up questionnaire.
ALL_POSITIVE = {"phq2.item1": 3, "phq2.item2": 3, "gad2.item1": 3, "gad2.item2": 3}


@dataclass(frozen=True, slots=True)
class ShownQuestion:
    key: str
    text: str
    layout: str  # scale, words, yes-no
    options: list[tuple[str, str, str]]  # (value sent, label shown, words for screen readers only)
    chosen: str | None
    error: str | None
    anchors: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ShownGroup:
    group: str
    title: str
    questions: list[ShownQuestion]
    hint: str | None = None


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields (the last of repeated names), bounded; no files."""
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


async def follow_up_groups(request: Request) -> list[str]:
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    return [value for value in form.getlist("follow_up") if isinstance(value, str)][:10]


Fields = Annotated[dict[str, str], Depends(form_fields)]
FollowUpGroups = Annotated[list[str], Depends(follow_up_groups)]


def _wording(question: checkins.Question) -> tuple[str, tuple[str, str] | None]:
    """The question without its anchors in brackets, and the 0-10 anchors (None for other scales)."""
    if question.kind != "scale_0_10":
        return question.text, None
    found = ANCHORED.search(question.text)
    if found is None:
        return question.text, DEFAULT_ANCHORS
    low = found["low"].strip()
    high = (found["high"] or (PAIN_TOP if "pain" in low else DEFAULT_ANCHORS[1])).strip()
    return question.text[: found.start()], (low, high)


def _shown(
    sets: Sequence[checkins.QuestionSet], values: Mapping[str, str], errors: Mapping[str, str]
) -> list[ShownGroup]:
    groups = []
    for question_set in sets:
        questions = []
        for question in question_set.questions:
            text, anchors = _wording(question)
            chosen, error = values.get(question.key), errors.get(question.key)
            if anchors is not None:  # the end-points are named at 0 and 10 (visibly above the buttons)
                options = [(str(n), str(n), "") for n in range(11)]
                options[0], options[10] = ("0", "0", anchors[0]), ("10", "10", anchors[1])
                questions.append(ShownQuestion(question.key, text, "scale", options, chosen, error, anchors))
            elif question.kind == "scale_0_3":
                options = [(str(n), f"{n} {words}", "") for n, words in enumerate(ANSWER_LABELS)]
                questions.append(ShownQuestion(question.key, text, "words", options, chosen, error))
            else:
                options = [("yes", "Yes", ""), ("no", "No", "")]
                questions.append(ShownQuestion(question.key, text, "yes-no", options, chosen, error))
        # "PHQ-2: Over the last 2 weeks, ..." -> the published stem; the instrument's name is for clinicians.
        title = question_set.title.split(": ", 1)[1] if ": " in question_set.title else question_set.title
        groups.append(ShownGroup(question_set.group, title, questions))
    return groups


def _parse(sets: Sequence[checkins.QuestionSet], fields: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers as the service takes them, and a message for each question left out or not understood."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question_set in sets:
        for question in question_set.questions:
            raw = fields.get(question.key, "").strip()
            text, _ = _wording(question)
            if question.kind == "yes_no":
                if raw in ("yes", "no"):
                    answers[question.key] = raw == "yes"
                else:
                    errors[question.key] = f"Choose yes or no: {text}"
                continue
            top = 10 if question.kind == "scale_0_10" else 3
            if raw.isdigit() and len(raw) <= 2 and 0 <= int(raw) <= top:
                answers[question.key] = int(raw)
            else:
                errors[question.key] = f"Choose a number from 0 to {top}: {text}"
    return answers, errors


def _gone(request: Request) -> HTMLResponse:
    """Unknown, expired and revoked links alike: nothing says which."""
    return TEMPLATES.TemplateResponse(request, "checkin_gone.html", {}, status_code=404, headers=PRIVATE)


def _open(session: Session, token: str) -> tuple[CheckinLink, Patient] | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    link = resolve_link(session, token, now=utc_now())
    if link is None:
        return None
    patient = session.get(Patient, link.patient_id)
    if patient is None or patient.practice_id != link.practice_id:
        return None
    return link, patient


def _today(patient: Patient) -> dt.date:
    return utc_now().astimezone(ZoneInfo(patient.timezone)).date()


def _first_name(patient: Patient) -> str:
    return (patient.given_name or "").split(" ")[0] or "there"


def _form(
    request: Request,
    token: str,
    patient: Patient,
    sets: Sequence[checkins.QuestionSet],
    *,
    stage: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    free_text: str = "",
    crisis: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    follow_up = stage == "follow_up"
    context = {
        "first_name": _first_name(patient),
        "groups": _shown(sets, values or {}, errors or {}),
        "errors": dict(errors or {}),
        "stage": stage,
        "action": f"/c/{token}",
        "free_text": free_text,
        "free_text_max": FREE_TEXT_MAX,
        "crisis": crisis,
        "crisis_resources": CRISIS_RESOURCES,
        "heading": "A few more questions" if follow_up else "Your check-in",
        "submit_label": "Send these answers" if follow_up else "Send my check-in",
    }
    return TEMPLATES.TemplateResponse(request, "checkin_form.html", context, status_code=status_code, headers=PRIVATE)


def _follow_up_sets(groups: Iterable[str]) -> list[checkins.QuestionSet]:
    """The follow-up questionnaires the second page asked, by group: only groups that are follow-ups. The
    answers they complete (the screen's items 1-2) were stored by the first submission, today."""
    wanted = set(groups)
    return [question_set for question_set in checkins.follow_ups(ALL_POSITIVE) if question_set.group in wanted]


@router.get("/c/{token}", response_class=HTMLResponse)
def checkin_page(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    opened = _open(session, token)
    if opened is None:
        session.rollback()
        return _gone(request)
    link, patient = opened
    sets = checkins.questions_for(session, link.practice_id, patient.id, today=_today(patient))
    session.commit()  # whatever resolving the link noted (its last use)
    return _form(request, token, patient, sets, stage="first")


@router.post("/c/{token}", response_class=HTMLResponse)
def submit_checkin(
    token: str, request: Request, session: SessionDep, fields: Fields, groups: FollowUpGroups
) -> HTMLResponse:
    opened = _open(session, token)
    if opened is None:
        session.rollback()
        return _gone(request)
    link, patient = opened
    stage = "follow_up" if fields.get("stage") == "follow_up" else "first"
    if stage == "follow_up":
        sets = _follow_up_sets(groups)
        if not sets:  # a follow-up page with nothing to follow up: start over
            stage = "first"
    if stage == "first":
        sets = checkins.questions_for(session, link.practice_id, patient.id, today=_today(patient))
    free_text = fields.get("free_text", "").strip()
    answers, errors = _parse(sets, fields)
    if len(free_text) > FREE_TEXT_MAX:
        errors["free_text"] = f"Please keep this under {FREE_TEXT_MAX} characters."
    values = {key: fields[key] for group in sets for key in (q.key for q in group.questions) if key in fields}
    if errors:
        session.rollback()
        return _form(
            request,
            token,
            patient,
            sets,
            stage=stage,
            values=values,
            errors=errors,
            free_text=free_text,
            status_code=422,
        )
    try:
        result = checkins.record_checkin(
            session, link.practice_id, patient.id, answers, channel="web", now=utc_now(), free_text=free_text or None
        )
    except checkins.CheckinError as refused:
        session.rollback()
        return _form(
            request,
            token,
            patient,
            sets,
            stage=stage,
            values=values,
            errors={refused.field: refused.message},
            free_text=free_text,
            status_code=422,
        )
    detail = {
        "observation_ids": list(result.observation_ids),
        "alert_ids": list(result.alert_ids),
        "channel": "web",
        "stage": stage,
        "link_id": link.id,
    }
    audit.record(
        session,
        request,
        None,
        action="create",
        entity="checkin",
        entity_id=link.patient_id,
        practice_id=link.practice_id,
        actor_label=ACTOR,
        detail=detail,
    )
    session.commit()
    if result.follow_ups:
        return _form(request, token, patient, result.follow_ups, stage="follow_up", crisis=result.crisis)
    context = {"first_name": _first_name(patient), "crisis": result.crisis, "crisis_resources": CRISIS_RESOURCES}
    return TEMPLATES.TemplateResponse(request, "checkin_done.html", context, headers=PRIVATE)
