"""What a vendor adapter is, and the small helpers every adapter shares.

An adapter turns one webhook body into `Parsed` items, one per measurement,
and never raises for bad content: a body that is not JSON, or not the
vendor's shape, is one `Refusal(field="body")`; a bad measurement is a
`Refusal` whose field is a path into the body (`[2].value_1` in an array,
`value_1` in a single object), so the sender can find it.

Every reading an adapter returns names its device by the vendor's own
identifier (`device_serial`) and leaves the patient to be found from the
device's assignment on the reading's day.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Protocol

from remotecare.ingest.measures import ReadingRefused
from remotecare.ingest.reading import Parsed, Refusal

MAX_TEXT = 100  # longest vendor text kept in provenance: enough for an id or a name, not for a payload


class VendorAdapter(Protocol):
    @property
    def vendor(self) -> str:
        """The url-safe name the adapter is found by, e.g. "tenovi"."""
        ...

    @property
    def description(self) -> str:
        """One line: which vendor payload shape the adapter follows."""
        ...

    def parse(self, body: bytes) -> list[Parsed]:
        """One item per measurement in `body`; never raises for bad content."""
        ...


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_items(body: bytes, what: str) -> list[tuple[str, Any]] | Refusal:
    """The body's measurements, each with its path prefix ("" for a single object, "[2]" in an array).

    `what` names the expected shape for the refusal message.
    """
    try:
        document = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, NaN/Infinity, absurd nesting
        return Refusal("body", f"is not valid JSON (expected {what})")
    if isinstance(document, dict):
        return [("", document)]
    if isinstance(document, list):
        if not document:
            return Refusal("body", f"is an empty array: nothing to store (expected {what})")
        return [(f"[{index}]", item) for index, item in enumerate(document)]
    return Refusal("body", f"must be a JSON object or an array of objects (expected {what})")


def path(prefix: str, name: str) -> str:
    """`name` inside the item at `prefix`: `[2].value_1`, or `value_1` for a single object."""
    return f"{prefix}.{name}" if prefix else name


def not_an_object(prefix: str) -> Refusal:
    return Refusal(prefix or "body", "must be a JSON object")


def refusal_from(prefix: str, refused: ReadingRefused, names: Mapping[str, str], note: str = "") -> Refusal:
    """A `check_values` refusal, with its field (`values.systolic`) renamed to the vendor's (`value_1`).

    `note` says what was converted, so a range in kg makes sense to a sender who sent grams or pounds.
    """
    message = f"{refused.message} ({note})" if note else refused.message
    return Refusal(path(prefix, names.get(refused.field, refused.field)), message)


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def number(value: Any) -> float | None:
    """A JSON number, or a decimal string such as "72.00" (some vendors quote numbers); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        value = value.strip()
    elif not isinstance(value, int | float):
        return None
    try:
        converted = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return converted if math.isfinite(converted) else None  # "9" * 400 parses to inf


def keep(provenance: dict[str, Any], name: str, value: Any) -> None:
    """Record `value` under `name` if it is a plain JSON scalar worth keeping; skip anything else."""
    if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        provenance[name] = value
    elif isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT:
        provenance[name] = value.strip()
