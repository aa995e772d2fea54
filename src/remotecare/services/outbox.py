"""The reminder outbox: queue short plain-text reminders to patients, and send the queued ones.

A reminder names the patient by first name and says nothing else about them:
a text or an email is not a private channel. The recipient is taken when the
message is queued (the phone for SMS, the email address for email, none for the
console and file channels); a message without one fails when it is sent.

`dispatch` sends the oldest queued messages first, each through the sender of
its channel. Every message is its own transaction: it is claimed (attempts + 1,
only if still queued as read, so two dispatchers never send one message twice),
committed, sent, and its outcome committed, so a sender that raises or a crash
loses no other message and a message sent is never left looking unsent. Texts
wait while it is quiet hours (21:00 to 08:00) where the patient lives, except the crisis resources
sent in answer to a patient's text (`QUIET_HOURS_EXEMPT`); texts to a patient who replied STOP are not
sent (failed, "opted out") unless they answer the patient's own text (`SENT_AFTER_OPT_OUT`).
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from remotecare.notify.senders import OutgoingMessage, Sender, SendResult
from remotecare.store.base import utc_now
from remotecare.store.batches import chunks
from remotecare.store.models import OutboxMessage, OutboxStatus, Patient

CHANNELS = ("sms", "email", "file", "console")
# Channels that need an address, and what it is called when the patient has none.
RECIPIENT_OF = {"sms": "phone number", "email": "email address"}
QUIET_FROM, QUIET_UNTIL = dt.time(21, 0), dt.time(8, 0)
TEMPLATE_MAX = 480
REASON_MAX = 40  # the column's length
# Reasons of texts answering a patient's own text (services.sms_checkins): the crisis resources go out even in
# quiet hours; the opt-out confirmation, the help text and the crisis resources even after STOP.
CRISIS_REASON, OPT_OUT_REASON, HELP_REASON = "sms_crisis_resources", "sms_opt_out", "sms_help"
QUIET_HOURS_EXEMPT = frozenset({CRISIS_REASON})
SENT_AFTER_OPT_OUT = frozenset({CRISIS_REASON, OPT_OUT_REASON, HELP_REASON})
DEFAULT_TEMPLATE = "Hi {first_name}, this is your care team. Please remember to take your reading today. Thank you!"


class OutboxError(ValueError):
    """A request the outbox refuses, naming the field at fault (`patient_ids[2]`, `template`)."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.code = field, message, code


def in_quiet_hours(now_utc: dt.datetime, timezone: str) -> bool:
    """Whether it is between 21:00 (included) and 08:00 (excluded) in `timezone` at the instant `now_utc`."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must carry a time zone")
    local = now_utc.astimezone(ZoneInfo(timezone)).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def check_template(template: str) -> str:
    """A plain-text template whose only placeholder is `{first_name}` (no attribute, index or format)."""
    text = template.strip()
    if not text:
        raise OutboxError("template", "is empty")
    if len(text) > TEMPLATE_MAX:
        raise OutboxError("template", f"is longer than {TEMPLATE_MAX} characters")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as error:
        raise OutboxError("template", f"is not a valid template ({error}); write braces as {{{{ and }}}}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name != "first_name" or spec or conversion:
            shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            raise OutboxError("template", f"may use only {{first_name}}, not {shown}")
    return text


def first_name(given_name: str) -> str:
    """The first of the patient's given names: nothing more of them goes in a message."""
    names = given_name.split()
    return names[0] if names else "there"


def render(template: str, given_name: str) -> str:
    return check_template(template).format(first_name=first_name(given_name))


def queue_reminders(
    session: Session,
    practice_id: int,
    patient_ids: Sequence[int],
    channel: str,
    template: str | None,
    created_by: int | None,
    reason: str,
) -> list[OutboxMessage]:
    """One queued message per patient, in the order given; refused as a whole (naming `patient_ids[i]`)
    if any id is repeated or names no patient of the practice."""
    if channel not in CHANNELS:
        raise OutboxError("channel", f"one of {', '.join(CHANNELS)}")
    text = check_template(template if template is not None else DEFAULT_TEMPLATE)
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise OutboxError("reason", f"1 to {REASON_MAX} characters")
    if not patient_ids:
        raise OutboxError("patient_ids", "names no patient")
    seen: dict[int, int] = {}
    for index, patient_id in enumerate(patient_ids):
        if patient_id in seen:
            raise OutboxError(
                f"patient_ids[{index}]", f"repeats patient {patient_id} (patient_ids[{seen[patient_id]}])"
            )
        seen[patient_id] = index
    found: dict[int, tuple[str, str | None, str | None]] = {}
    for chunk in chunks(sorted(seen)):
        for patient_id, given, phone, email in session.execute(
            select(Patient.id, Patient.given_name, Patient.phone, Patient.email).where(
                Patient.practice_id == practice_id, Patient.id.in_(chunk)
            )
        ):
            found[patient_id] = (given, phone, email)
    for index, patient_id in enumerate(patient_ids):
        if patient_id not in found:
            raise OutboxError(f"patient_ids[{index}]", f"no patient {patient_id} in this practice", "unknown_reference")
    messages = []
    for patient_id in patient_ids:
        given, phone, email = found[patient_id]
        recipient = {"sms": phone, "email": email}.get(channel)
        messages.append(
            OutboxMessage(
                practice_id=practice_id,
                patient_id=patient_id,
                channel=channel,
                recipient=recipient or None,
                body=text.format(first_name=first_name(given)),
                reason=reason,
                status=OutboxStatus.QUEUED,
                created_by=created_by,
                attempts=0,
            )
        )
    session.add_all(messages)
    session.flush()
    return messages


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)  # texts left queued: quiet hours where the patient is
    without_sender: dict[str, int] = field(default_factory=dict)  # queued messages of channels no sender serves

    def counts(self) -> dict[str, int]:
        return {"sent": len(self.sent), "failed": len(self.failed), "deferred": len(self.deferred)}


def dispatch(
    session: Session,
    practice_id: int,
    senders: Mapping[str, Sender],
    limit: int = 100,
    *,
    now: dt.datetime | None = None,
    message_ids: Collection[int] | None = None,
) -> DispatchReport:
    """Send up to `limit` queued messages of the practice, oldest first, each by its channel's sender;
    only those of `message_ids` when given (a reply sent at once).

    Commits after each message (see the module's note). Messages of a channel with no sender stay queued
    and are counted in `without_sender`; texts in the patient's quiet hours stay queued (`deferred`)."""
    if limit < 1:
        raise ValueError("limit must be 1 or more")
    now = now or utc_now()
    report = DispatchReport()
    channels = sorted(senders)
    after: tuple[dt.datetime, int] | None = None
    while channels and len(report.sent) + len(report.failed) < limit:
        page = session.execute(_queued_page(practice_id, channels, after, limit, message_ids)).all()
        if not page:
            break
        for row in page:
            after = (row.created_at, row.id)
            if len(report.sent) + len(report.failed) >= limit:
                break
            if row.channel == "sms" and row.sms_opted_out_at is not None and row.reason not in SENT_AFTER_OPT_OUT:
                if _claim(session, row):
                    _finish(session, row, None, SendResult.failed("recipient: the patient opted out of texts"), now)
                    report.failed.append(row.id)
                continue
            if row.channel == "sms" and row.reason not in QUIET_HOURS_EXEMPT:
                try:
                    quiet = in_quiet_hours(now, row.timezone)
                except (ZoneInfoNotFoundError, ValueError):
                    if _claim(session, row):
                        unknown = SendResult.failed(f"timezone: unknown time zone {row.timezone!r} of the patient")
                        _finish(session, row, None, unknown, now)
                        report.failed.append(row.id)
                    continue
                if quiet:
                    report.deferred.append(row.id)
                    continue
            outcome = _send_one(session, row, senders[row.channel], now)
            if outcome is not None:
                (report.sent if outcome.ok else report.failed).append(row.id)
    report.without_sender = _without_sender(session, practice_id, channels)
    return report


def _queued_page(
    practice_id: int,
    channels: list[str],
    after: tuple[dt.datetime, int] | None,
    size: int,
    message_ids: Collection[int] | None = None,
) -> Any:
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.created_at,
            OutboxMessage.channel,
            OutboxMessage.recipient,
            OutboxMessage.body,
            OutboxMessage.attempts,
            OutboxMessage.reason,
            Patient.timezone,
            Patient.sms_opted_out_at,
        )
        .join(Patient, Patient.id == OutboxMessage.patient_id)
        .where(
            OutboxMessage.practice_id == practice_id,
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.channel.in_(channels),
        )
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(size)
    )
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(list(message_ids)))
    if after is not None:
        created, message_id = after
        query = query.where(
            or_(
                OutboxMessage.created_at > created,
                and_(OutboxMessage.created_at == created, OutboxMessage.id > message_id),
            )
        )
    return query


def _claim(session: Session, row: Any) -> bool:
    """Count the attempt, only if the message is still queued as read; committed before sending."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row.id,
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.attempts == row.attempts,
            )
            .values(attempts=row.attempts + 1)
        ),
    )
    session.commit()
    return result.rowcount == 1


def _send_one(session: Session, row: Any, sender: Sender, now: dt.datetime) -> SendResult | None:
    """Claim, send and record one message; None when another dispatcher claimed it first."""
    if not _claim(session, row):
        return None
    if row.channel in RECIPIENT_OF and not row.recipient:
        result = SendResult.failed(f"recipient: the patient has no {RECIPIENT_OF[row.channel]}")
    else:
        message = OutgoingMessage(row.id, row.channel, row.recipient, row.body)
        try:
            result = sender.send(message)
        except Exception as error:  # any sender failure fails this message only
            result = SendResult.failed(f"{type(error).__name__}: {error}")
    _finish(session, row, sender.name, result, now)
    return result


def _finish(session: Session, row: Any, sender: str | None, result: SendResult, now: dt.datetime) -> None:
    values: dict[str, Any]
    if result.ok:
        values = {"status": OutboxStatus.SENT, "sent_at": now, "sender": sender, "error": None}
    else:
        values = {"status": OutboxStatus.FAILED, "error": result.error or "failed", "sender": sender}
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))
    session.commit()


def _without_sender(session: Session, practice_id: int, served: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.channel, func.count())
        .where(
            OutboxMessage.practice_id == practice_id,
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.channel.not_in(served),
        )
        .group_by(OutboxMessage.channel)
    )
    return {channel: int(count) for channel, count in rows}
