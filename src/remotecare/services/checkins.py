"""Patient check-ins (mobile page or SMS): what a patient is asked, and their answers stored as readings.

What is asked comes from the practice's per-program configuration (`Practice.checkin_settings["programs"]`,
program -> list of question groups; DEFAULT_GROUPS where the practice set none) and the patient's active
enrollments and scheduled medications (`Patient.medications`: one yes/no question per name).

Question keys are `<group>.<item>`: `pain.nrs`, `peg.pain`, `function.walking`, `medications.<slug>`,
`exercises.done`, `phq2.item1`, `phq9.item9`, `gad7.item3`. Every item of a group is needed once any is
given (a check-in may answer only some groups: SMS asks one at a time). The PHQ-9 that follows a positive
PHQ-2 asks items 3-9; items 1-2 are the PHQ-2's (from the same answers or the PHQ-2 stored that day), and
likewise GAD-7 items 1-2 are the GAD-2's.

Each group is stored as one observation (each medication as its own `medication_adherence` reading, the
shape `ingest.measures` already knows) on the patient's check-in app device, with the patient as performer
and the channel in `provenance`:

  group       reading type           values
  pain        pain_score             nrs
  peg         peg_score              score, pain, enjoyment, activity
  function    function               activity, walking, sleep, score (mean)
  medications medication_adherence   taken, medication (one per medication)
  exercises   therapy_adherence      taken, exercise
  phq2...     phq2 / phq9 / gad2 / gad7  item1..., total, severity, positive, safety_flag

Billing: the app counts as the RTM device only when the practice says so (`checkin_settings
["rtm_device_qualifies"]`, false by default): the check-in Device's `medical_device` follows that setting
(kept in step at every check-in and when the practice changes it), and the rules count days only on a
medical device (cms-rules.md rule 1-2). Readings are `manual` (self-reported, not a device transmission)
unless the setting qualifies the app. Every observation's provenance records the setting in force.

Idempotency: a reading's key is the patient, the local day, the reading type and the values, so a form
sent twice (a double tap, a retried SMS) stores once; the same answers twice in one day store once.

Nothing is committed here: `record_checkin` flushes, and the caller commits with its audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from remotecare.domain import pain_scales, questionnaires
from remotecare.domain.programs import Program
from remotecare.domain.questionnaires import CRISIS_RESOURCES, Instrument, QuestionnaireError, crisis_text
from remotecare.ingest.reading import IncomingReading
from remotecare.services import alerting
from remotecare.services.ingestion import content_key
from remotecare.store.base import utc_now
from remotecare.store.models import (
    Alert,
    AlertStatus,
    Device,
    DeviceAssignment,
    Enrollment,
    Observation,
    Patient,
    Practice,
)

__all__ = [
    "CRISIS_RESOURCES",
    "DEFAULT_GROUPS",
    "FOLLOW_UP_SETS",
    "GROUPS",
    "CheckinError",
    "CheckinResult",
    "Question",
    "QuestionSet",
    "check_settings",
    "checkin_device",
    "follow_ups",
    "medication_key",
    "questions_for",
    "record_checkin",
    "rtm_device_qualifies",
    "sync_device_setting",
]

Kind = Literal["scale_0_10", "scale_0_3", "yes_no"]
Channel = Literal["web", "sms"]
DEVICE_KIND = "checkin_app"
KEY_SOURCE = "checkin_app"  # one idempotency scope for both channels: the same answers by web or SMS are one


class CheckinError(ValueError):
    """A check-in that cannot be stored: `field` names the question key at fault (`phq9.item9`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: Kind
    group: str


@dataclass(frozen=True)
class QuestionSet:
    group: str
    title: str
    questions: tuple[Question, ...]


@dataclass
class CheckinResult:
    observation_ids: list[int]
    alert_ids: list[int]
    crisis: bool
    scores: dict[str, Any]
    follow_ups: list[QuestionSet] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# Questions

_PEG_TEXT = {
    "pain": "What number best describes your pain on average in the past week? (0 = no pain, 10 = pain as bad "
    "as you can imagine)",
    "enjoyment": "What number best describes how, during the past week, pain has interfered with your "
    "enjoyment of life? (0 = does not interfere, 10 = completely interferes)",
    "activity": "What number best describes how, during the past week, pain has interfered with your general "
    "activity? (0 = does not interfere, 10 = completely interferes)",
}
# Not a validated scale: three daily interference items worded after the BPI's 9A, 9C and 9F.
_FUNCTION_TEXT = {
    "activity": "Today, how much has pain interfered with your general activity? (0 = not at all, 10 = completely)",
    "walking": "Today, how much has pain interfered with your walking? (0 = not at all, 10 = completely)",
    "sleep": "Last night, how much did pain interfere with your sleep? (0 = not at all, 10 = completely)",
}
_FIXED: dict[str, QuestionSet] = {
    "pain": QuestionSet(
        "pain",
        "Pain",
        (
            Question(
                "pain.nrs", "On a scale of 0 to 10, how bad is your pain right now? (0 = no pain)", "scale_0_10", "pain"
            ),
        ),
    ),
    "peg": QuestionSet(
        "peg",
        "Pain, enjoyment and activity (PEG)",
        tuple(Question(f"peg.{k}", t, "scale_0_10", "peg") for k, t in _PEG_TEXT.items()),
    ),
    "function": QuestionSet(
        "function",
        "Daily function",
        tuple(Question(f"function.{k}", t, "scale_0_10", "function") for k, t in _FUNCTION_TEXT.items()),
    ),
    "exercises": QuestionSet(
        "exercises",
        "Exercises",
        (Question("exercises.done", "Did you do your prescribed exercises today?", "yes_no", "exercises"),),
    ),
}


def _instrument_set(instrument: Instrument, *, first_item: int = 1) -> QuestionSet:
    group = instrument.value
    stem = questionnaires.STEMS[instrument]
    questions = tuple(
        Question(f"{group}.{key}", text, "scale_0_3", group)
        for n, (key, text) in enumerate(questionnaires.ITEMS[instrument].items(), start=1)
        if n >= first_item
    )
    names = {Instrument.PHQ2: "PHQ-2", Instrument.PHQ9: "PHQ-9", Instrument.GAD2: "GAD-2", Instrument.GAD7: "GAD-7"}
    return QuestionSet(group, f"{names[instrument]}: {stem}", questions)


for _instrument in Instrument:
    _FIXED[_instrument.value] = _instrument_set(_instrument)
# The follow-ups ask only what the screen did not (items 1-2 are the screen's).
_FOLLOW_UP_SETS = {
    Instrument.PHQ9: _instrument_set(Instrument.PHQ9, first_item=3),
    Instrument.GAD7: _instrument_set(Instrument.GAD7, first_item=3),
}
# The follow-up question sets, for a page that shows them (by group: phq9, gad7).
FOLLOW_UP_SETS: tuple[QuestionSet, ...] = tuple(_FOLLOW_UP_SETS.values())

GROUPS: tuple[str, ...] = ("pain", "peg", "function", "medications", "exercises", "phq2", "gad2", "phq9", "gad7")
DEFAULT_GROUPS: dict[Program, tuple[str, ...]] = {
    Program.RTM: ("pain", "function", "medications", "exercises"),
    Program.CPM: ("peg", "medications", "phq2", "gad2"),
    Program.BHI: ("phq2", "gad2"),
}
SETTING_KEYS = ("rtm_device_qualifies", "programs")


def medication_key(name: str) -> str:
    """The question key of a scheduled medication: `medications.` and its name in lower case, non-letters as _."""
    return "medications." + (re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "unnamed")


def _medication_set(names: Iterable[str]) -> QuestionSet | None:
    questions = tuple(
        Question(medication_key(name), f"Did you take your {name} today as scheduled?", "yes_no", "medications")
        for name in names
    )
    return QuestionSet("medications", "Medications", questions) if questions else None


def check_settings(value: object) -> dict[str, Any]:
    """The practice's check-in settings, checked; raises CheckinError naming the field (`checkin_settings...`)."""
    base = "checkin_settings"
    if not isinstance(value, Mapping):
        raise CheckinError(base, "must be an object")
    for key in value:
        if key not in SETTING_KEYS:
            raise CheckinError(f"{base}.{key}", f"is not a setting (one of {', '.join(SETTING_KEYS)})")
    qualifies = value.get("rtm_device_qualifies", False)
    if not isinstance(qualifies, bool):
        raise CheckinError(f"{base}.rtm_device_qualifies", "must be true or false")
    programs = value.get("programs", {})
    if not isinstance(programs, Mapping):
        raise CheckinError(f"{base}.programs", "must be an object: program -> list of question groups")
    checked: dict[str, list[str]] = {}
    for program, groups in programs.items():
        where = f"{base}.programs.{program}"
        if program not in Program.__members__:
            raise CheckinError(where, f"is not a program (one of {', '.join(Program)})")
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise CheckinError(where, "must be a list of question groups")
        for index, group in enumerate(groups):
            if group not in GROUPS:
                raise CheckinError(
                    f"{where}[{index}]", f"{group!r} is not a question group (one of {', '.join(GROUPS)})"
                )
        if len(set(groups)) != len(groups):
            raise CheckinError(where, "names a question group twice")
        checked[program] = list(groups)
    return {"rtm_device_qualifies": qualifies, "programs": checked}


def rtm_device_qualifies(practice: Practice) -> bool:
    """The practice's explicit choice: does its check-in app count as the RTM device? False unless it said so."""
    return (practice.checkin_settings or {}).get("rtm_device_qualifies") is True


def _groups_of(practice: Practice, program: Program) -> tuple[str, ...]:
    configured = (practice.checkin_settings or {}).get("programs", {})
    if program.value in configured:
        return tuple(configured[program.value])
    return DEFAULT_GROUPS.get(program, ())


def _active_programs(session: Session, practice_id: int, patient_id: int, today: dt.date) -> set[Program]:
    rows = session.scalars(
        select(Enrollment.program).where(
            Enrollment.practice_id == practice_id,
            Enrollment.patient_id == patient_id,
            Enrollment.start_date <= today,
            or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today),
        )
    )
    return {Program(program) for program in rows}


def _load(session: Session, practice_id: int, patient_id: int) -> tuple[Practice, Patient]:
    patient = session.scalar(select(Patient).where(Patient.practice_id == practice_id, Patient.id == patient_id))
    practice = session.get(Practice, practice_id)
    if patient is None or practice is None:
        raise CheckinError("patient_id", f"no patient {patient_id} in this practice")
    return practice, patient


def questions_for(session: Session, practice_id: int, patient_id: int, *, today: dt.date) -> list[QuestionSet]:
    """What this patient is asked today, group by group in a fixed order (nothing when not enrolled)."""
    practice, patient = _load(session, practice_id, patient_id)
    wanted: set[str] = set()
    for program in _active_programs(session, practice_id, patient_id, today):
        wanted.update(_groups_of(practice, program))
    sets: list[QuestionSet] = []
    for group in GROUPS:
        if group not in wanted:
            continue
        if group == "medications":
            medications = _medication_set(patient.medications or [])
            if medications is not None:
                sets.append(medications)
            continue
        sets.append(_FIXED[group])
    return sets


def follow_ups(answers: Mapping[str, int | bool]) -> list[QuestionSet]:
    """The PHQ-9 (items 3-9) and/or GAD-7 (items 3-7) that positive PHQ-2 / GAD-2 answers call for, unless
    those answers already hold them. Screens not fully or validly answered call for nothing."""
    sets: list[QuestionSet] = []
    for screen, full in questionnaires.FOLLOW_UP.items():
        items = _items(answers, screen.value)
        if not items or any(key.startswith(f"{full.value}.") for key in answers):
            continue
        try:
            result = questionnaires.score(screen, items)
        except QuestionnaireError:
            continue
        if questionnaires.needs_follow_up(screen, result) is not None:
            sets.append(_FOLLOW_UP_SETS[full])
    return sets


def _items(answers: Mapping[str, object], group: str) -> dict[str, Any]:
    prefix = f"{group}."
    return {key.removeprefix(prefix): value for key, value in answers.items() if key.startswith(prefix)}


# ---------------------------------------------------------------------------------------------------------
# Recording


@dataclass(frozen=True)
class _Reading:
    type: str
    values: dict[str, Any]
    group: str


def record_checkin(
    session: Session,
    practice_id: int,
    patient_id: int,
    answers: Mapping[str, int | bool],
    *,
    channel: Channel,
    now: dt.datetime | None = None,
    free_text: str | None = None,
) -> CheckinResult:
    """Check every answer, store one reading per group on the patient's check-in app, and raise alerts.

    Raises CheckinError naming the question key at fault; on error nothing is stored. A PHQ-9 item 9 above
    0 or crisis words in `free_text` open an urgent "crisis" alert at once (`crisis=True`: show the patient
    CRISIS_RESOURCES); any other `free_text` reaches the care team as a low-priority "patient_message" alert.
    Flushed, not committed."""
    now = utc_now() if now is None else now
    if now.tzinfo is None:
        raise CheckinError("now", "has no UTC offset, so its instant is unknown")
    if channel not in ("web", "sms"):
        raise CheckinError("channel", "must be web or sms")
    practice, patient = _load(session, practice_id, patient_id)
    zone = ZoneInfo(patient.timezone)
    today = now.astimezone(zone).date()
    free_text = free_text.strip() if free_text and free_text.strip() else None
    is_crisis_text = free_text is not None and crisis_text(free_text)
    if not answers and free_text is None:
        raise CheckinError("answers", "no answers given")
    readings, scores = _check_answers(session, practice, patient, answers, today, now)
    qualifies = rtm_device_qualifies(practice)
    device = checkin_device(session, practice, patient, today=today) if readings else None
    stored: list[tuple[int, _Reading]] = []
    new_ids: list[int] = []
    for reading in readings:
        assert device is not None
        observation_id, created = _store(session, patient, device, reading, channel, now, today, qualifies)
        stored.append((observation_id, reading))
        if created:
            new_ids.append(observation_id)
    alert_ids = alerting.raise_alerts(session, practice_id, new_ids) if new_ids else []
    crisis_alerts = _crisis_alerts(session, patient, stored, free_text if is_crisis_text else None, today, now)
    if free_text is not None and not is_crisis_text:
        alert_ids.append(_message_alert(session, patient, free_text, today, now))
    return CheckinResult(
        observation_ids=[observation_id for observation_id, _ in stored],
        alert_ids=[*crisis_alerts, *(a for a in alert_ids if a not in crisis_alerts)],
        crisis=bool(crisis_alerts),
        scores=scores,
        follow_ups=follow_ups(answers),
    )


def _check_answers(
    session: Session,
    practice: Practice,
    patient: Patient,
    answers: Mapping[str, object],
    today: dt.date,
    now: dt.datetime,
) -> tuple[list[_Reading], dict[str, Any]]:
    """The readings the answers make, and their scores; CheckinError at the first fault."""
    asked = {q.key: q for s in questions_for(session, practice.id, patient.id, today=today) for q in s.questions}
    for instrument in (Instrument.PHQ9, Instrument.GAD7):  # a follow-up may always be answered
        asked.update({q.key: q for q in _FIXED[instrument.value].questions})
    for key, value in answers.items():
        question = asked.get(key)
        if question is None:
            raise CheckinError(key, "is not a question of this patient's check-in")
        _check_value(question, value)
    readings: list[_Reading] = []
    scores: dict[str, Any] = {}
    given = {q.group for key, q in asked.items() if key in answers}
    for group in GROUPS:
        if group not in given:
            continue
        items = _items(answers, group)
        if group == "medications":
            names = {medication_key(name): name for name in patient.medications or []}
            taken = 0
            for key, value in answers.items():
                if key in names:
                    readings.append(_Reading("medication_adherence", {"taken": value, "medication": names[key]}, group))
                    taken += bool(value)
            scores[group] = {"taken": taken, "asked": sum(key in names for key in answers)}
        elif group == "exercises":
            readings.append(
                _Reading("therapy_adherence", {"taken": items["done"], "exercise": "prescribed exercises"}, group)
            )
            scores[group] = {"done": items["done"]}
        elif group in ("pain", "peg"):
            scale = pain_scales.PainScale.NRS if group == "pain" else pain_scales.PainScale.PEG
            try:
                pain = pain_scales.score(scale, items)
            except pain_scales.ScaleError as error:
                raise CheckinError(f"{group}.{error.field.removeprefix('answers.')}", error.message) from None
            readings.append(_Reading(scale.value, pain.values(), group))
            scores[group] = {"score": pain.score}
        elif group == "function":
            _require(items, group, tuple(_FUNCTION_TEXT))
            mean = round(sum(items.values()) / len(items), 2)
            readings.append(_Reading("function", {**{k: items[k] for k in _FUNCTION_TEXT}, "score": mean}, group))
            scores[group] = {"score": mean}
        else:
            instrument = Instrument(group)
            if instrument in (Instrument.PHQ9, Instrument.GAD7):
                items = _with_screen_items(session, patient, instrument, items, answers, today, now)
            try:
                result = questionnaires.score(instrument, items)
            except QuestionnaireError as error:
                raise CheckinError(error.field, error.message) from None
            readings.append(_Reading(instrument.value, result.values(), group))
            scores[group] = {
                "total": result.total,
                "severity": result.severity,
                "positive": result.positive,
                "safety_flag": result.safety_flag,
            }
    return readings, scores


def _check_value(question: Question, value: object) -> None:
    if question.kind == "yes_no":
        if not isinstance(value, bool):
            raise CheckinError(question.key, "must be yes or no (true or false)")
        return
    high = 10 if question.kind == "scale_0_10" else 3
    # bool is a subclass of int, but True is not an answer on a scale.
    if isinstance(value, bool) or not isinstance(value, int):
        raise CheckinError(question.key, f"must be a whole number from 0 to {high}")
    if not 0 <= value <= high:
        raise CheckinError(question.key, f"{value} is outside 0 to {high}")


def _require(items: Mapping[str, object], group: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key not in items:
            raise CheckinError(f"{group}.{key}", "is required once any question of the group is answered")


FOLLOW_UP_WINDOW = dt.timedelta(hours=12)


def _with_screen_items(
    session: Session,
    patient: Patient,
    instrument: Instrument,
    items: dict[str, Any],
    answers: Mapping[str, object],
    today: dt.date,
    now: dt.datetime,
) -> dict[str, Any]:
    """A follow-up's items 1-2 from its screen: given with it, or the screen stored today or within
    `FOLLOW_UP_WINDOW` (a screen answered at 23:55 and its follow-up at 00:05 are one check-in)."""
    if "item1" in items and "item2" in items:
        return items
    screen = Instrument.PHQ2 if instrument is Instrument.PHQ9 else Instrument.GAD2
    from_screen = _items(answers, screen.value)
    if not ("item1" in from_screen and "item2" in from_screen):
        stored = session.scalars(
            select(Observation.values)
            .where(
                Observation.practice_id == patient.practice_id,
                Observation.patient_id == patient.id,
                Observation.type == screen.value,
                or_(Observation.local_date == today, Observation.effective_at >= now - FOLLOW_UP_WINDOW),
                Observation.effective_at <= now,
            )
            .order_by(Observation.effective_at.desc(), Observation.id.desc())
            .limit(1)
        ).first()
        from_screen = dict(stored or {})
    return {"item1": from_screen.get("item1"), "item2": from_screen.get("item2"), **items} if from_screen else items


def checkin_device(session: Session, practice: Practice, patient: Patient, *, today: dt.date) -> Device:
    """The patient's check-in app as a Device (made on first use), its `medical_device` in step with the
    practice's setting, and assigned to RTM while the patient is enrolled in RTM."""
    serial = f"checkin-app-{patient.id}"
    qualifies = rtm_device_qualifies(practice)
    device = session.scalar(select(Device).where(Device.practice_id == practice.id, Device.serial == serial))
    if device is None:
        device = Device(
            practice_id=practice.id,
            serial=serial,
            kind=DEVICE_KIND,
            medical_device=qualifies,
            manufacturer="RemoteCare",
            model="check-in app",
        )
        session.add(device)
        session.flush()
    elif device.medical_device != qualifies:
        device.medical_device = qualifies
    if Program.RTM in _active_programs(session, practice.id, patient.id, today):
        _assign_to_rtm(session, practice.id, patient.id, device.id, today)
    return device


def _assign_to_rtm(session: Session, practice_id: int, patient_id: int, device_id: int, today: dt.date) -> None:
    covering = session.scalar(
        select(DeviceAssignment.id).where(
            DeviceAssignment.practice_id == practice_id,
            DeviceAssignment.device_id == device_id,
            DeviceAssignment.patient_id == patient_id,
            DeviceAssignment.program == Program.RTM,
            DeviceAssignment.start_date <= today,
            or_(DeviceAssignment.end_date.is_(None), DeviceAssignment.end_date >= today),
        )
    )
    if covering is None:
        session.add(
            DeviceAssignment(
                practice_id=practice_id,
                device_id=device_id,
                patient_id=patient_id,
                program=Program.RTM,
                start_date=today,
            )
        )
        session.flush()


def sync_device_setting(session: Session, practice: Practice) -> int:
    """Bring every check-in app device of the practice in step with its setting; the number changed."""
    qualifies = rtm_device_qualifies(practice)
    devices = session.scalars(
        select(Device).where(
            Device.practice_id == practice.id, Device.kind == DEVICE_KIND, Device.medical_device != qualifies
        )
    ).all()
    for device in devices:
        device.medical_device = qualifies
    return len(devices)


def _store(
    session: Session,
    patient: Patient,
    device: Device,
    reading: _Reading,
    channel: Channel,
    now: dt.datetime,
    today: dt.date,
    qualifies: bool,
) -> tuple[int, bool]:
    """The stored observation's id, and whether it is new (False: the same answers were stored today)."""
    identity = json.dumps(reading.values, sort_keys=True, separators=(",", ":"))
    external = f"{patient.id}:{today.isoformat()}:{reading.type}:{hashlib.sha256(identity.encode()).hexdigest()[:32]}"
    incoming = IncomingReading(reading.type, reading.values, now, patient.id, device.id, external_id=external)
    key = content_key(KEY_SOURCE, incoming, patient.id, device.id)
    existing = session.scalar(
        select(Observation.id).where(Observation.practice_id == patient.practice_id, Observation.content_key == key)
    )
    if existing is not None:
        return existing, False
    observation = Observation(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        device_id=device.id,
        type=reading.type,
        values=reading.values,
        effective_at=now,
        local_date=today,
        manual=not qualifies,
        source=f"checkin_{channel}",
        external_id=external,
        content_key=key,
        received_at=now,
        provenance={
            "performer": {"type": "patient", "id": patient.id},
            "channel": channel,
            "device_kind": DEVICE_KIND,
            "question_group": reading.group,
            "rtm_device_qualifies": qualifies,
        },
    )
    session.add(observation)
    session.flush()
    return observation.id, True


def _crisis_alerts(
    session: Session,
    patient: Patient,
    stored: list[tuple[int, _Reading]],
    free_text: str | None,
    today: dt.date,
    now: dt.datetime,
) -> list[int]:
    """Open (or find, on a resubmission) the urgent crisis alerts: PHQ-9 item 9 above 0, crisis words."""
    triggers: list[tuple[str, int | None, str, float | None]] = []
    for observation_id, reading in stored:
        if reading.type == Instrument.PHQ9.value and reading.values.get("safety_flag"):
            item9 = reading.values["item9"]
            message = f"PHQ-9 item 9 (thoughts of self-harm) answered {item9}: contact the patient now."
            triggers.append((f"crisis:phq9:{observation_id}", observation_id, message, float(item9)))
    if free_text is not None:
        message = f"The patient wrote words of crisis: {free_text[:500]!r}. Contact the patient now."
        triggers.append((f"crisis:text:{today.isoformat()}:{_digest(free_text)}", None, message, None))
    return _open_alerts(session, patient, triggers, "crisis", "urgent", now)


def _message_alert(session: Session, patient: Patient, free_text: str, today: dt.date, now: dt.datetime) -> int:
    """What the patient wrote for the care team reaches it as a low-priority alert to read and resolve: the
    text is kept in the alert's message, and nowhere else."""
    message = f"The patient wrote: {free_text.strip()[:1000]!r}"
    trigger = (f"message:{today.isoformat()}:{_digest(free_text)}", None, message, None)
    return _open_alerts(session, patient, [trigger], "patient_message", "low", now)[0]


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:24]


def _open_alerts(
    session: Session,
    patient: Patient,
    triggers: list[tuple[str, int | None, str, float | None]],
    rule: str,
    severity: str,
    now: dt.datetime,
) -> list[int]:
    """One alert per trigger (dedup key, reading, message, observed); a resubmission finds the one open."""
    ids: list[int] = []
    for dedup_key, source_id, message, observed in triggers:
        existing = session.scalar(
            select(Alert.id).where(
                and_(
                    Alert.practice_id == patient.practice_id,
                    Alert.patient_id == patient.id,
                    Alert.dedup_key == dedup_key,
                )
            )
        )
        if existing is not None:
            ids.append(existing)
            continue
        alert = Alert(
            practice_id=patient.practice_id,
            patient_id=patient.id,
            observation_id=source_id,
            rule=rule,
            severity=severity,
            status=AlertStatus.OPEN,
            dedup_key=dedup_key,
            message=message,
            observed=observed,
            created_at=now,
            updated_at=now,
        )
        session.add(alert)
        session.flush()
        ids.append(alert.id)
    return ids
