"""Webhook signatures: the header format, freshness at the boundary, malformed headers and secret rotation."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remotecare.ingest.signing import SIGNATURE_HEADER, TOLERANCE, SignatureError, sign, verify

SECRET = "whsec_test"
BODY = b'{"metric":"pulse"}'
T = 1_718_984_820  # 2024-06-21T15:47:00Z
NOW = dt.datetime(2024, 6, 21, 15, 47, tzinfo=dt.UTC)
# Computed independently: printf '1718984820.{"metric":"pulse"}' | openssl dgst -sha256 -hmac whsec_test
KNOWN_DIGEST = "543980a5907e418a6e79e4683755038726f707ba55464684dfd15d85e4ee175b"


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def refusal(secret: str, body: bytes, header: str | None, now: dt.datetime) -> str:
    with pytest.raises(SignatureError) as raised:
        verify(secret, body, header, now)
    assert raised.value.message == str(raised.value)
    return raised.value.message


def test_the_header_is_the_timestamp_and_the_hmac_of_timestamp_dot_body() -> None:
    assert sign(SECRET, BODY, T) == f"t={T},v1={KNOWN_DIGEST}"
    assert SIGNATURE_HEADER == "X-RemoteCare-Signature"
    assert TOLERANCE.total_seconds() == 300


def test_a_signed_body_verifies_and_returns_its_timestamp() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, T), NOW) == T


def test_a_tampered_body_is_refused() -> None:
    header = sign(SECRET, BODY, T)
    message = refusal(SECRET, b'{"metric":"pulse" }', header, NOW)
    assert message.startswith("X-RemoteCare-Signature: does not match the body")


def test_a_different_secret_is_refused() -> None:
    message = refusal("another-secret", BODY, sign(SECRET, BODY, T), NOW)
    assert message.startswith("X-RemoteCare-Signature: does not match the body")


def test_the_timestamp_is_signed_so_it_cannot_be_refreshed() -> None:
    # A replayed request with a new t but the old digest: the digest no longer matches.
    old = sign(SECRET, BODY, T - 3600)
    forged = old.replace(f"t={T - 3600}", f"t={T}")
    assert "does not match the body" in refusal(SECRET, BODY, forged, NOW)


def test_exactly_300_seconds_old_passes_and_301_is_refused() -> None:
    header = sign(SECRET, BODY, T)
    assert verify(SECRET, BODY, header, at(300)) == T
    assert verify(SECRET, BODY, header, at(300.9)) == T  # the timestamp has whole seconds only
    assert refusal(SECRET, BODY, header, at(301)) == (
        "X-RemoteCare-Signature: the timestamp is 301 s old; "
        "signatures older than 300 s are refused (replay protection)"
    )
    assert "is 612 s old" in refusal(SECRET, BODY, header, at(612))


def test_exactly_300_seconds_ahead_passes_and_301_is_refused() -> None:
    header = sign(SECRET, BODY, T)
    assert verify(SECRET, BODY, header, at(-300)) == T
    message = refusal(SECRET, BODY, header, at(-301))
    assert message.startswith("X-RemoteCare-Signature: the timestamp is 301 s in the future;")
    assert "check the sender's clock" in message


def test_now_in_another_zone_is_the_same_instant() -> None:
    header = sign(SECRET, BODY, T)
    eastern = dt.timezone(dt.timedelta(hours=-4))
    assert verify(SECRET, BODY, header, at(300).astimezone(eastern)) == T
    with pytest.raises(SignatureError):
        verify(SECRET, BODY, header, at(301).astimezone(eastern))


def test_a_missing_header_is_refused_as_missing() -> None:
    assert refusal(SECRET, BODY, None, NOW) == "X-RemoteCare-Signature: missing"
    assert refusal(SECRET, BODY, "", NOW) == "X-RemoteCare-Signature: missing"
    assert refusal(SECRET, BODY, "   ", NOW) == "X-RemoteCare-Signature: missing"


GOOD = KNOWN_DIGEST


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("garbage", "malformed"),
        (f"t={T};v1={GOOD}", "t must be a whole number"),
        (f"v1={GOOD}", "needs exactly one t="),
        (f"t={T},t={T},v1={GOOD}", "needs exactly one t="),
        (f"t={T}", "no v1 signature"),
        (f"t=abc,v1={GOOD}", "t must be a whole number"),
        (f"t={T}.0,v1={GOOD}", "t must be a whole number"),
        (f"t=-{T},v1={GOOD}", "t must be a whole number"),
        (f"t=+{T},v1={GOOD}", "t must be a whole number"),
        (f"t=,v1={GOOD}", "t must be a whole number"),
        (f"t={T},v1={GOOD.upper()}", "v1 must be 64 lowercase hex digits"),
        (f"t={T},v1={GOOD[:-1]}", "v1 must be 64 lowercase hex digits"),
        (f"t={T},v1={GOOD[:-1]}é", "v1 must be 64 lowercase hex digits"),
        (f"t={T},v1=", "v1 must be 64 lowercase hex digits"),
        (f"t={T},,v1={GOOD}", "malformed"),
    ],
)
def test_malformed_headers_are_refused_with_what_is_wrong(header: str, says: str) -> None:
    message = refusal(SECRET, BODY, header, NOW)
    assert message.startswith("X-RemoteCare-Signature: ")
    assert says in message


def test_spaces_after_commas_and_unknown_schemes_are_tolerated() -> None:
    header = f"t={T}, v0=legacy, v1={KNOWN_DIGEST}"
    assert verify(SECRET, BODY, header, NOW) == T


def test_rotation_any_of_several_v1_entries_may_match() -> None:
    old, new = "old-secret", "new-secret"
    digest_old = sign(old, BODY, T).split("v1=")[1]
    digest_new = sign(new, BODY, T).split("v1=")[1]
    header = f"t={T},v1={digest_old},v1={digest_new}"
    assert verify(old, BODY, header, NOW) == T
    assert verify(new, BODY, header, NOW) == T
    assert verify(new, BODY, f"t={T},v1={digest_new},v1={digest_old}", NOW) == T
    assert "does not match" in refusal("third-secret", BODY, header, NOW)


def test_programming_errors_are_not_signature_errors() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(SECRET, BODY, sign(SECRET, BODY, T), dt.datetime(2024, 6, 21, 15, 47))
    with pytest.raises(ValueError, match="must not be empty"):
        sign("", BODY, T)


@given(
    secret=st.text(min_size=1, max_size=64),
    body=st.binary(max_size=2048),
    timestamp=st.integers(min_value=0, max_value=4_102_444_800),
    skew=st.integers(min_value=-300, max_value=300),
)
def test_any_body_signed_now_verifies_and_any_change_to_it_does_not(
    secret: str, body: bytes, timestamp: int, skew: int
) -> None:
    header = sign(secret, body, timestamp)
    now = dt.datetime.fromtimestamp(timestamp + skew, dt.UTC)
    assert verify(secret, body, header, now) == timestamp
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret, body + b"\x00", header, now)
