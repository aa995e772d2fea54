"""Senders: what delivers a queued reminder. One interface, four kinds.

- `ConsoleSender` writes each message to a stream (a terminal, a log);
- `FileSender` appends each message as a JSON line to a file: the default, so
  that nothing leaves the machine until a real sender is configured;
- `SmsSender` posts to a Twilio-style REST API through an HTTP-posting callable
  it is given (`urllib_post` by default), so tests give it a recorder instead;
- `EmailSender` hands the message to an SMTP server through `smtplib` (or a
  connection factory it is given, again so tests can record what it would do).

A sender answers with a `SendResult`; it may also raise, and the dispatcher
(`services.outbox.dispatch`) records that as a failure of that message only.
Errors never carry credentials.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import smtplib
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, TextIO

import platformdirs

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
ERROR_TEXT_MAX = 500


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a sender needs of a queued message, and nothing more of the patient."""

    id: int
    channel: str
    recipient: str | None
    body: str


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    error: str | None = None
    reference: str | None = None  # the service's id for the message (an SMS sid, a Message-ID)

    @classmethod
    def sent(cls, reference: str | None = None) -> SendResult:
        return cls(True, None, reference)

    @classmethod
    def failed(cls, error: str) -> SendResult:
        return cls(False, error[:ERROR_TEXT_MAX])


class Sender(Protocol):
    """Delivers messages of one channel; `name` is written on each message it sends."""

    @property
    def name(self) -> str: ...

    @property
    def channel(self) -> str: ...

    def send(self, message: OutgoingMessage) -> SendResult: ...


class ConsoleSender:
    """Writes `[channel] to recipient: body` lines to a stream (standard output by default)."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, *, channel: str = "console") -> None:
        self._stream = stream
        self.channel = channel

    def send(self, message: OutgoingMessage) -> SendResult:
        stream = self._stream or sys.stdout
        stream.write(f"[{message.channel} #{message.id}] to {message.recipient or '-'}: {message.body}\n")
        stream.flush()
        return SendResult.sent()


class FileSender:
    """Appends one JSON object per message to `path` (created with its folder when first written)."""

    name = "file"

    def __init__(self, path: Path, *, channel: str = "file", clock: Callable[[], dt.datetime] | None = None) -> None:
        self.path = Path(path)
        self.channel = channel
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> SendResult:
        line = json.dumps(
            {
                "id": message.id,
                "channel": message.channel,
                "recipient": message.recipient,
                "body": message.body,
                "written_at": self._clock().isoformat(),
            },
            ensure_ascii=False,
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return SendResult.sent(f"{self.path.name}#{message.id}")


def default_outbox_path(configured: Path | str | None = None) -> Path:
    """The file `FileSender` writes to: the configured one, else `outbox.jsonl` in RemoteCare's data folder
    (where the default SQLite database lives too)."""
    if configured:
        return Path(configured)
    return Path(platformdirs.user_data_dir("remotecare")) / "outbox.jsonl"


def local_senders(path: Path, stream: TextIO | None = None) -> dict[str, Sender]:
    """The senders that need no outside service: file messages to `path`, console messages to `stream`.
    SMS and email stay queued until a real sender for them is configured."""
    return {"file": FileSender(path), "console": ConsoleSender(stream)}


# --- SMS through a Twilio-style REST API ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: str


# (url, form fields, headers) -> the answer. Given to `SmsSender`, so it never needs a network in tests.
HttpPost = Callable[[str, Mapping[str, str], Mapping[str, str]], HttpResponse]


def urllib_post(
    url: str, form: Mapping[str, str], headers: Mapping[str, str], *, timeout: float = 10.0
) -> HttpResponse:
    """POST a urlencoded form with the standard library; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode("utf-8"), headers=dict(headers), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResponse(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, error.read().decode("utf-8", "replace"))


class SmsSender:
    """Sends a text through a Twilio-style Messages API: a form POST of To, From and Body to
    `<base_url>/2010-04-01/Accounts/<account_sid>/Messages.json` with HTTP basic authentication."""

    name = "sms"
    channel = "sms"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        post: HttpPost = urllib_post,
        base_url: str = "https://api.twilio.com",
    ) -> None:
        if not E164.match(from_number):
            raise ValueError("from_number: not an E.164 phone number (e.g. +15551234567)")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._post = post
        self._base_url = base_url.rstrip("/")

    @property
    def url(self) -> str:
        return f"{self._base_url}/2010-04-01/Accounts/{urllib.parse.quote(self._account_sid, safe='')}/Messages.json"

    def send(self, message: OutgoingMessage) -> SendResult:
        if not message.recipient:
            return SendResult.failed("recipient: the patient has no phone number")
        if not E164.match(message.recipient):
            return SendResult.failed("recipient: not an E.164 phone number")
        credentials = base64.b64encode(f"{self._account_sid}:{self._auth_token}".encode()).decode("ascii")
        headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        form = {"To": message.recipient, "From": self._from, "Body": message.body}
        answer = self._post(self.url, form, headers)
        try:
            parsed = json.loads(answer.body) if answer.body else {}
        except ValueError:
            parsed = {}
        details = parsed if isinstance(parsed, dict) else {}
        if 200 <= answer.status < 300:
            return SendResult.sent(str(details["sid"]) if "sid" in details else None)
        reason = details.get("message") or answer.body[:200] or "no answer body"
        code = f" (code {details['code']})" if "code" in details else ""
        return SendResult.failed(f"SMS service answered HTTP {answer.status}{code}: {reason}")


# --- email through SMTP --------------------------------------------------------------------------


class SmtpConnection(Protocol):
    """The part of `smtplib.SMTP` the email sender uses."""

    def __enter__(self) -> SmtpConnection: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> object: ...

    def starttls(self, *, context: ssl.SSLContext) -> object: ...

    def login(self, user: str, password: str) -> object: ...

    def send_message(self, msg: EmailMessage) -> Mapping[str, object]: ...


class SmtpFactory(Protocol):
    def __call__(self, host: str, port: int, *, timeout: float) -> SmtpConnection: ...


class EmailSender:
    """Sends a plain-text email through an SMTP server: STARTTLS (default), implicit TLS or none
    (a local relay), and a login when a username is given."""

    name = "email"
    channel = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        security: Literal["starttls", "ssl", "none"] = "starttls",
        subject: str = "A message from your care team",
        timeout: float = 10.0,
        connect: SmtpFactory | None = None,
    ) -> None:
        if "@" not in from_address:
            raise ValueError("from_address: not an email address")
        self._host, self._port = host, port
        self._from = from_address
        self._username, self._password = username, password
        self._security = security
        self._subject = subject
        self._timeout = timeout
        self._connect = connect or self._smtplib_connection

    def _smtplib_connection(self, host: str, port: int, *, timeout: float) -> SmtpConnection:
        if self._security == "ssl":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        return smtplib.SMTP(host, port, timeout=timeout)

    def email(self, message: OutgoingMessage) -> EmailMessage:
        """The email the sender would hand to the server."""
        assert message.recipient is not None
        email = EmailMessage()
        email["From"] = self._from
        email["To"] = message.recipient
        email["Subject"] = self._subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain=self._from.rpartition("@")[2])
        email.set_content(message.body)
        return email

    def send(self, message: OutgoingMessage) -> SendResult:
        if not message.recipient:
            return SendResult.failed("recipient: the patient has no email address")
        if "@" not in message.recipient or any(c in message.recipient for c in "\r\n,;<>"):
            return SendResult.failed("recipient: not an email address")
        email = self.email(message)
        try:
            with self._connect(self._host, self._port, timeout=self._timeout) as smtp:
                if self._security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                refused = smtp.send_message(email)
        except smtplib.SMTPException as error:
            return SendResult.failed(f"SMTP server refused the message: {type(error).__name__}: {error}")
        if refused:
            return SendResult.failed(f"SMTP server refused the recipient: {refused}")
        return SendResult.sent(str(email["Message-ID"]))
