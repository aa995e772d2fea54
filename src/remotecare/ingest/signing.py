"""Webhook signatures, the same for every vendor integration.

The sender computes HMAC-SHA256, keyed with the integration's secret, over
`f"{timestamp}.".encode() + raw_body` and sends it as

    X-RemoteCare-Signature: t=<unix seconds>,v1=<lowercase hex>

Signing the timestamp together with the body is what makes the timestamp
trustworthy: an attacker who replays a captured request cannot refresh it
without the secret, so a request older than `TOLERANCE` is refused. Several
`v1=` entries may be sent (one per secret while a secret is being rotated);
any match passes.

Pure: the current time is passed in, never read from the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re

SIGNATURE_HEADER = "X-RemoteCare-Signature"
TOLERANCE = dt.timedelta(minutes=5)

# Strict shapes: `int()` would also take "+5", " 5" or "1_0", and `compare_digest`
# raises on non-ASCII text, so both parts are matched before they are used.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_EXAMPLE = "t=<unix seconds>,v1=<hex HMAC-SHA256>"


class SignatureError(Exception):
    """A request whose signature cannot be accepted; `message` is meant for the sender."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    if not secret:
        raise ValueError("the signing secret must not be empty")
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, body, timestamp)}"


def verify(secret: str, body: bytes, header: str | None, now: dt.datetime) -> int:
    """The signed timestamp, if `header` is a valid, fresh signature of `body`; else `SignatureError`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    timestamp, digests = _parse(header)
    expected = _digest(secret, body, timestamp)
    matched = False
    for digest in digests:  # no early exit: every candidate costs the same
        matched |= hmac.compare_digest(expected, digest)
    if not matched:
        raise SignatureError(f"{SIGNATURE_HEADER}: does not match the body (wrong secret, or the body was altered)")

    limit = int(TOLERANCE.total_seconds())
    age = math.floor(now.timestamp()) - timestamp  # whole seconds, like the timestamp itself
    if age > limit:
        raise SignatureError(
            f"{SIGNATURE_HEADER}: the timestamp is {age} s old; "
            f"signatures older than {limit} s are refused (replay protection)"
        )
    if -age > limit:
        raise SignatureError(
            f"{SIGNATURE_HEADER}: the timestamp is {-age} s in the future; "
            f"more than {limit} s ahead is refused (check the sender's clock)"
        )
    return timestamp


def _parse(header: str | None) -> tuple[int, list[str]]:
    if header is None or not header.strip():
        raise SignatureError(f"{SIGNATURE_HEADER}: missing")
    timestamps: list[str] = []
    digests: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"{SIGNATURE_HEADER}: malformed, expected {_EXAMPLE}")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            if not _DIGEST.fullmatch(value):
                raise SignatureError(f"{SIGNATURE_HEADER}: v1 must be 64 lowercase hex digits (HMAC-SHA256)")
            digests.append(value)
        # Other keys (a future scheme, say v2) are ignored, so senders can add one before we check it.
    if len(timestamps) != 1:
        raise SignatureError(f"{SIGNATURE_HEADER}: needs exactly one t=<unix seconds>, expected {_EXAMPLE}")
    if not _TIMESTAMP.fullmatch(timestamps[0]):
        raise SignatureError(f"{SIGNATURE_HEADER}: t must be a whole number of unix seconds")
    if not digests:
        raise SignatureError(f"{SIGNATURE_HEADER}: no v1 signature, expected {_EXAMPLE}")
    return int(timestamps[0]), digests
