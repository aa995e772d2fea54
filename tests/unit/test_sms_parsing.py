"""Texts from patients, without a database: the reply parser, the provider's signature and webhook fields,
and the fake gateway."""

from __future__ import annotations

import pytest

from remotecare.domain.questionnaires import crisis_text
from remotecare.domain.sms_replies import ParsedReply, ReplyKind, parse_reply
from remotecare.ingest.signing import SignatureError
from remotecare.notify.senders import OutgoingMessage
from remotecare.notify.sms_inbound import FakeGateway, InboundSms, InboundSmsError, TwilioProvider


def parse(body: str) -> ParsedReply:
    return parse_reply(body, crisis_text)


@pytest.mark.parametrize(
    ("body", "pain"),
    [
        ("7", 7),
        (" 7 ", 7),
        ("7\n", 7),
        ("pain 7", 7),
        ("Pain 7/10", 7),
        ("PAIN: 7", 7),
        ("7/10", 7),
        ("7 / 10", 7),
        ("7 out of 10", 7),
        ("my pain is 4", 4),
        ("0", 0),
        ("10", 10),
        ("10/10!", 10),
        ("seven", 7),
        ("Zero.", 0),
        ("-0", 0),
    ],
)
def test_a_rating_from_0_to_10_is_read_however_it_is_written(body: str, pain: int) -> None:
    assert parse(body) == ParsedReply(ReplyKind.PAIN, pain)


@pytest.mark.parametrize("body", ["11", "-1", "100", "pain 12/10", "eleven", "+11"])
def test_a_whole_number_outside_0_to_10_is_out_of_range(body: str) -> None:
    assert parse(body) == ParsedReply(ReplyKind.OUT_OF_RANGE)


@pytest.mark.parametrize(
    "body", ["banana", "", "   ", "6.5", "7 8", "7/5", "pain", "about a 7 I guess", "yes", "7 and my knee hurts"]
)
def test_anything_else_is_not_understood(body: str) -> None:
    assert parse(body) == ParsedReply(ReplyKind.UNKNOWN)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("STOP", ReplyKind.OPT_OUT),
        ("stop", ReplyKind.OPT_OUT),
        (" Stop. ", ReplyKind.OPT_OUT),
        ("STOPALL", ReplyKind.OPT_OUT),
        ("unsubscribe", ReplyKind.OPT_OUT),
        ("Cancel", ReplyKind.OPT_OUT),
        ("END", ReplyKind.OPT_OUT),
        ("quit!", ReplyKind.OPT_OUT),
        ("stop texting me", ReplyKind.OPT_OUT),
        ("START", ReplyKind.OPT_IN),
        ("unstop", ReplyKind.OPT_IN),
        ("help", ReplyKind.HELP),
        ("HELP?", ReplyKind.HELP),
        ("info", ReplyKind.HELP),
        ("stopping by later", ReplyKind.UNKNOWN),
        ("the end", ReplyKind.UNKNOWN),
    ],
)
def test_keywords_are_the_whole_message_whatever_the_case(body: str, kind: ReplyKind) -> None:
    assert parse(body).kind is kind


@pytest.mark.parametrize("body", ["I want to die", "8, and I want to kill myself", "STOP I want to end my life"])
def test_a_crisis_phrase_comes_before_a_rating_or_a_keyword(body: str) -> None:
    assert parse(body) == ParsedReply(ReplyKind.CRISIS)


# --- the provider's signature: Twilio's documented scheme ------------------------------------------------------

TWILIO = TwilioProvider()
# The example of Twilio's security documentation: auth token 12345, this URL and these fields.
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_FIELDS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
# base64(HMAC-SHA1("12345", URL + "CallSidCA1234567890ABCDE" + "Caller+12349013030" + "Digits1234"
# + "From+12349013030" + "To+18005551212")), computed by hand with `openssl dgst -sha1 -hmac 12345 -binary`.
EXAMPLE_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_signature_is_the_hmac_sha1_of_the_url_and_the_sorted_fields() -> None:
    shuffled = list(reversed(EXAMPLE_FIELDS.items()))
    assert TWILIO.sign("12345", EXAMPLE_URL, shuffled) == EXAMPLE_SIGNATURE
    TWILIO.verify("12345", EXAMPLE_URL, shuffled, EXAMPLE_SIGNATURE)


@pytest.mark.parametrize(
    ("token", "url", "fields", "signature", "message"),
    [
        ("12345", EXAMPLE_URL, EXAMPLE_FIELDS, None, "missing"),
        ("12345", EXAMPLE_URL, EXAMPLE_FIELDS, " ", "missing"),
        ("54321", EXAMPLE_URL, EXAMPLE_FIELDS, EXAMPLE_SIGNATURE, "does not match"),
        ("12345", EXAMPLE_URL + "&baz=3", EXAMPLE_FIELDS, EXAMPLE_SIGNATURE, "does not match"),
        ("12345", EXAMPLE_URL, {**EXAMPLE_FIELDS, "Digits": "1235"}, EXAMPLE_SIGNATURE, "does not match"),
        ("12345", EXAMPLE_URL, EXAMPLE_FIELDS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=é", "does not match"),
        ("", EXAMPLE_URL, EXAMPLE_FIELDS, EXAMPLE_SIGNATURE, "no auth token"),
    ],
)
def test_a_wrong_token_url_field_or_signature_is_refused(
    token: str, url: str, fields: dict[str, str], signature: str | None, message: str
) -> None:
    with pytest.raises(SignatureError, match=message) as refused:
        TWILIO.verify(token, url, fields.items(), signature)
    assert refused.value.message.startswith("X-Twilio-Signature: ")


def test_the_webhook_fields_become_an_inbound_text() -> None:
    fields = {"From": "+13125550100", "To": "+15550006000", "Body": " 7 ", "MessageSid": "SM123", "NumMedia": "0"}
    assert TWILIO.parse(fields) == InboundSms("+13125550100", "+15550006000", " 7 ", "SM123")
    assert TWILIO.parse({"From": "+13125550100"}) == InboundSms("+13125550100", "", "", None)
    for bad, field in (({"From": "3125550100"}, "From"), ({"From": "+13125550100", "MessageSid": "a b"}, "MessageSid")):
        with pytest.raises(InboundSmsError) as refused:
            TWILIO.parse(bad)
        assert refused.value.field == field
    body, media_type = TWILIO.acknowledgement()
    assert (body.endswith("<Response/>"), media_type) == (True, "application/xml")


def test_the_fake_gateway_records_what_is_sent_and_signs_what_it_delivers() -> None:
    gateway = FakeGateway(auth_token="fake-token")
    assert gateway.send(OutgoingMessage(1, "sms", "+13125550100", "Hi Ann")).ok
    assert not gateway.send(OutgoingMessage(2, "sms", None, "Hi Bo")).ok
    assert gateway.texts_to("+13125550100") == ["Hi Ann"] and len(gateway.sent) == 1

    posted: list[tuple[str, dict[str, str], dict[str, str]]] = []
    gateway.deliver(
        lambda url, form, headers: posted.append((url, dict(form), dict(headers))), "http://x/sms", "+1312", "7"
    )
    url, form, headers = posted[0]
    assert (form["From"], form["To"], form["Body"]) == ("+1312", gateway.number, "7")
    TWILIO.verify("fake-token", url, form.items(), headers["X-Twilio-Signature"])
    assert gateway.inbound_request("http://x/sms", "+1312", "7")[0]["MessageSid"] != form["MessageSid"]
