"""The senders, each against a fake transport: the request it would make, and how it reads the answer.
Nothing here reaches a real SMS or email service."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import smtplib
import ssl
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from remotecare.notify import (
    ConsoleSender,
    EmailSender,
    FileSender,
    OutgoingMessage,
    Sender,
    SmsSender,
    default_outbox_path,
    local_senders,
)
from remotecare.notify.senders import HttpResponse, SmtpConnection, urllib_post

TEXT = OutgoingMessage(41, "sms", "+13125550100", "Hi Ann, please take a reading today.")
EMAIL = OutgoingMessage(42, "email", "ann@example.test", "Hi Ann, please take a reading today.")


def test_every_sender_has_the_one_interface() -> None:
    senders: list[Sender] = [
        ConsoleSender(io.StringIO()),
        FileSender(Path("unused.jsonl")),
        SmsSender(account_sid="AC1", auth_token="t", from_number="+15550001111", post=lambda *_: HttpResponse(201, "")),
        EmailSender(host="smtp.example.test", port=587, from_address="care@example.test"),
    ]
    assert [(s.name, s.channel) for s in senders] == [
        ("console", "console"),
        ("file", "file"),
        ("sms", "sms"),
        ("email", "email"),
    ]


def test_the_console_sender_writes_one_line_to_its_stream() -> None:
    stream = io.StringIO()
    result = ConsoleSender(stream).send(OutgoingMessage(7, "console", None, "Hi Ann"))
    assert result.ok and stream.getvalue() == "[console #7] to -: Hi Ann\n"


def test_the_file_sender_appends_json_lines_creating_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "outbox.jsonl"
    at = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    sender = FileSender(path, clock=lambda: at)
    assert sender.send(TEXT).reference == "outbox.jsonl#41"
    sender.send(OutgoingMessage(43, "file", None, "Hi Bo, ünïcode"))
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"id": 41, "channel": "sms", "recipient": "+13125550100", "body": TEXT.body, "written_at": at.isoformat()},
        {"id": 43, "channel": "file", "recipient": None, "body": "Hi Bo, ünïcode", "written_at": at.isoformat()},
    ]


def test_the_default_outbox_file_is_the_setting_or_in_the_data_folder(tmp_path: Path) -> None:
    assert default_outbox_path(tmp_path / "x.jsonl") == tmp_path / "x.jsonl"
    assert default_outbox_path(None).name == "outbox.jsonl"
    senders = local_senders(tmp_path / "x.jsonl")
    assert sorted(senders) == ["console", "file"]  # SMS and email need a sender of their own


# --- SMS -------------------------------------------------------------------------------------------


class Recorder:
    """An HTTP-posting callable that keeps each request and gives a canned answer."""

    def __init__(self, answer: HttpResponse) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def __call__(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> HttpResponse:
        self.requests.append((url, dict(form), dict(headers)))
        return self.answer


def sms(post: Recorder) -> SmsSender:
    return SmsSender(account_sid="AC123", auth_token="secret-token", from_number="+15550001111", post=post)


def test_the_sms_sender_posts_a_twilio_style_form_with_basic_authentication() -> None:
    post = Recorder(HttpResponse(201, json.dumps({"sid": "SM0001", "status": "queued"})))
    result = sms(post).send(TEXT)
    assert (result.ok, result.reference, result.error) == (True, "SM0001", None)
    ((url, form, headers),) = post.requests
    assert url == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    assert form == {"To": "+13125550100", "From": "+15550001111", "Body": TEXT.body}
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:secret-token").decode()
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_the_sms_sender_reports_the_services_refusal_without_the_token() -> None:
    answer = HttpResponse(400, json.dumps({"code": 21211, "message": "The 'To' number is not a valid phone number."}))
    result = sms(Recorder(answer)).send(TEXT)
    assert not result.ok
    assert result.error == "SMS service answered HTTP 400 (code 21211): The 'To' number is not a valid phone number."
    assert "secret-token" not in (result.error or "")
    unreadable = sms(Recorder(HttpResponse(503, "<html>busy</html>"))).send(TEXT)
    assert unreadable.error == "SMS service answered HTTP 503: <html>busy</html>"


def test_the_sms_sender_refuses_a_missing_or_malformed_number_without_a_request() -> None:
    post = Recorder(HttpResponse(201, "{}"))
    assert sms(post).send(OutgoingMessage(1, "sms", None, "x")).error == "recipient: the patient has no phone number"
    assert sms(post).send(OutgoingMessage(1, "sms", "312-555-0100", "x")).error == (
        "recipient: not an E.164 phone number"
    )
    assert post.requests == []
    with pytest.raises(ValueError, match="from_number"):
        SmsSender(account_sid="AC1", auth_token="t", from_number="5550001111", post=post)


@pytest.fixture
def local_http() -> Iterator[tuple[str, list[tuple[str, dict[str, list[str]], str]]]]:
    """A throwaway HTTP server on 127.0.0.1 that answers 201 and keeps (path, form, authorization)."""
    seen: list[tuple[str, dict[str, list[str]], str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            seen.append((self.path, urllib.parse.parse_qs(body), self.headers["Authorization"]))
            answer = json.dumps({"sid": "SM-local"}).encode()
            self.send_response(201 if self.path.endswith("Messages.json") else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_urllib_post_sends_the_form_and_reads_an_error_status_as_an_answer(
    local_http: tuple[str, list[tuple[str, dict[str, list[str]], str]]],
) -> None:
    base, seen = local_http
    sender = SmsSender(account_sid="AC9", auth_token="tok", from_number="+15550001111", base_url=base)
    result = sender.send(TEXT)
    assert (result.ok, result.reference) == (True, "SM-local")
    assert seen == [
        (
            "/2010-04-01/Accounts/AC9/Messages.json",
            {"To": ["+13125550100"], "From": ["+15550001111"], "Body": [TEXT.body]},
            "Basic " + base64.b64encode(b"AC9:tok").decode(),
        )
    ]
    missing = urllib_post(base + "/nowhere", {"a": "b"}, {})
    assert missing.status == 404


# --- email -----------------------------------------------------------------------------------------


class FakeSmtp:
    """Records what the email sender asks of an SMTP connection."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.messages: list[EmailMessage] = []
        self.refuse = refuse

    def __call__(self, host: str, port: int, *, timeout: float) -> SmtpConnection:
        self.calls.append(("connect", (host, port, timeout)))
        return self

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.calls.append(("quit", None))

    def starttls(self, *, context: ssl.SSLContext) -> object:
        self.calls.append(("starttls", isinstance(context, ssl.SSLContext)))
        return (220, b"ready")

    def login(self, user: str, password: str) -> object:
        self.calls.append(("login", (user, password)))
        return (235, b"ok")

    def send_message(self, msg: EmailMessage) -> Mapping[str, object]:
        if self.refuse is not None:
            raise self.refuse
        self.calls.append(("send", msg["To"]))
        self.messages.append(msg)
        return {}


def email_sender(fake: FakeSmtp, **options: Any) -> EmailSender:
    settings: dict[str, Any] = {
        "host": "smtp.example.test",
        "port": 587,
        "from_address": "care@clinic.example.test",
        "username": "care",
        "password": "app-password",
        "connect": fake,
        **options,
    }
    return EmailSender(**settings)


def test_the_email_sender_starts_tls_logs_in_and_sends_a_plain_text_message() -> None:
    fake = FakeSmtp()
    result = email_sender(fake).send(EMAIL)
    assert result.ok
    assert [name for name, _ in fake.calls] == ["connect", "starttls", "login", "send", "quit"]
    assert fake.calls[0][1] == ("smtp.example.test", 587, 10.0)
    assert fake.calls[2][1] == ("care", "app-password")
    (message,) = fake.messages
    assert (message["From"], message["To"], message["Subject"]) == (
        "care@clinic.example.test",
        "ann@example.test",
        "A message from your care team",
    )
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == EMAIL.body
    assert result.reference == message["Message-ID"] and "@clinic.example.test>" in str(message["Message-ID"])


def test_the_email_sender_to_a_local_relay_needs_no_tls_or_login() -> None:
    fake = FakeSmtp()
    assert email_sender(fake, security="none", username=None, port=25).send(EMAIL).ok
    assert [name for name, _ in fake.calls] == ["connect", "send", "quit"]


def test_the_email_sender_reports_a_refusal_and_a_missing_address() -> None:
    refused = smtplib.SMTPRecipientsRefused({"ann@example.test": (550, b"no such mailbox")})
    result = email_sender(FakeSmtp(refuse=refused)).send(EMAIL)
    assert not result.ok and (result.error or "").startswith("SMTP server refused the message: SMTPRecipientsRefused")
    fake = FakeSmtp()
    assert email_sender(fake).send(OutgoingMessage(1, "email", None, "x")).error == (
        "recipient: the patient has no email address"
    )
    assert email_sender(fake).send(OutgoingMessage(1, "email", "a@b.test\r\nBcc: x@y.test", "x")).error == (
        "recipient: not an email address"
    )
    assert fake.calls == []
    with pytest.raises(ValueError, match="from_address"):
        EmailSender(host="h", port=25, from_address="nobody")
