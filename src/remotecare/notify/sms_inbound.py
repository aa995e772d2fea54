"""Texts from patients: the SMS provider's inbound webhook, behind an interface another provider can fill.

An `SmsProvider` knows three things about its service: how it signs the
webhook it posts when a patient texts our number (`verify`), how the message
is laid out in that request (`parse`, giving an `InboundSms`), and what it
expects as the answer (`acknowledgement`). Replies never go back in that
answer: they are queued in the outbox like every other text, so each one is
recorded and waits out quiet hours unless it is a crisis reply.

`TwilioProvider` implements Twilio's documented scheme, with no SDK:

    X-Twilio-Signature = base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 ...))

where `url` is the full URL the provider requested (scheme, host, path and query
string, exactly as configured on the phone number) and the POSTed form fields
are sorted by name (then value, for a repeated name) and appended as name then
value, with no separators. The signature carries no timestamp, so a replayed
request is caught by its message id instead (`services.sms_checkins`).

`FakeGateway` is a real, local stand-in for the provider in tests and demos: a
`Sender` that records every outgoing text instead of calling a service, and a
phone that can text the app, signing its requests as the provider would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from remotecare.ingest.signing import SignatureError
from remotecare.notify.senders import E164, OutgoingMessage, SendResult

BODY_MAX = 1600  # the longest text a provider delivers (Twilio concatenates up to 1600 characters)
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

__all__ = [
    "BODY_MAX",
    "FakeGateway",
    "InboundSms",
    "InboundSmsError",
    "SignatureError",
    "SmsProvider",
    "TwilioProvider",
]


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text a patient sent: from their phone (E.164) to our number, with the provider's id for it."""

    sender: str
    to: str
    body: str
    message_id: str | None = None


class InboundSmsError(ValueError):
    """A webhook that is signed but does not carry a text we can read (no sender, a malformed number)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class SmsProvider(Protocol):
    """One SMS service's inbound webhook. `secret` is what the service signs with (Twilio: the auth token)."""

    @property
    def name(self) -> str: ...

    @property
    def signature_header(self) -> str: ...

    def sign(self, secret: str, url: str, params: Iterable[tuple[str, str]]) -> str: ...

    def verify(self, secret: str, url: str, params: Iterable[tuple[str, str]], signature: str | None) -> None:
        """Return if `signature` is the service's signature of this request; else raise `SignatureError`."""
        ...

    def parse(self, params: Mapping[str, str]) -> InboundSms: ...

    def acknowledgement(self) -> tuple[str, str]:
        """(body, media type) of the answer the service expects when we reply through the outbox instead."""
        ...


class TwilioProvider:
    """Twilio's Messaging webhook: form fields From, To, Body, MessageSid; signed with X-Twilio-Signature."""

    name = "twilio"
    signature_header = "X-Twilio-Signature"

    def sign(self, secret: str, url: str, params: Iterable[tuple[str, str]]) -> str:
        if not secret:
            raise ValueError("the auth token must not be empty")
        payload = url + "".join(name + value for name, value in sorted(params))
        digest = hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
        return base64.b64encode(digest).decode("ascii")

    def verify(self, secret: str, url: str, params: Iterable[tuple[str, str]], signature: str | None) -> None:
        header = self.signature_header
        if signature is None or not signature.strip():
            raise SignatureError(f"{header}: missing")
        if not secret:
            raise SignatureError(f"{header}: this number has no auth token set up")
        expected = self.sign(secret, url, params)
        # compare_digest refuses non-ASCII text, so compare bytes.
        if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8")):
            raise SignatureError(
                f"{header}: does not match the request (wrong auth token, altered fields, "
                "or a webhook URL that differs from the one the provider was given)"
            )

    def parse(self, params: Mapping[str, str]) -> InboundSms:
        sender = params.get("From", "").strip()
        if not E164.match(sender):
            raise InboundSmsError("From", "not an E.164 phone number")
        to = params.get("To", "").strip()
        message_id = params.get("MessageSid", "").strip() or None
        if message_id is not None and not _MESSAGE_ID.fullmatch(message_id):
            raise InboundSmsError("MessageSid", "not a message id")
        return InboundSms(sender=sender, to=to, body=params.get("Body", "")[:BODY_MAX], message_id=message_id)

    def acknowledgement(self) -> tuple[str, str]:
        # TwiML with no <Message>: Twilio sends nothing back itself.
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>', "application/xml"


TWILIO = TwilioProvider()
PROVIDERS: dict[str, SmsProvider] = {TWILIO.name: TWILIO}

T = TypeVar("T")


@dataclass
class FakeGateway:
    """The SMS service, played locally: records what the app sends, and texts the app as a patient would.

    As a `Sender` (channel "sms") it keeps every message in `sent` and answers with a made-up id. As a
    phone, `inbound_request` builds the form and signature headers the provider would post to the app's
    webhook URL, and `deliver` posts them through the callable it is given (a test client's post)."""

    auth_token: str
    number: str = "+15550006000"  # the practice's texting number
    provider: SmsProvider = field(default_factory=TwilioProvider)
    sent: list[OutgoingMessage] = field(default_factory=list)
    name: str = "fake-sms"
    channel: str = "sms"
    _counter: int = field(default=0, init=False, repr=False)

    def send(self, message: OutgoingMessage) -> SendResult:
        if not message.recipient or not E164.match(message.recipient):
            return SendResult.failed("recipient: not an E.164 phone number")
        self.sent.append(message)
        return SendResult.sent(f"SMfake{len(self.sent):06d}")

    def texts_to(self, phone: str) -> list[str]:
        """The bodies sent to `phone`, oldest first."""
        return [message.body for message in self.sent if message.recipient == phone]

    def next_message_id(self) -> str:
        self._counter += 1
        return f"SMin{self._counter:030d}"

    def inbound_request(
        self, url: str, sender: str, body: str, *, message_id: str | None = None
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(form fields, headers) of the provider's webhook for a text from `sender` to this number."""
        form = {
            "From": sender,
            "To": self.number,
            "Body": body,
            "MessageSid": message_id or self.next_message_id(),
            "NumMedia": "0",
        }
        signature = self.provider.sign(self.auth_token, url, form.items())
        return form, {self.provider.signature_header: signature}

    def deliver(
        self,
        post: Callable[[str, Mapping[str, str], Mapping[str, str]], T],
        url: str,
        sender: str,
        body: str,
        *,
        message_id: str | None = None,
    ) -> T:
        """Text the app: post the signed webhook for a message from `sender` to `url` through `post`."""
        form, headers = self.inbound_request(url, sender, body, message_id=message_id)
        return post(url, form, headers)
