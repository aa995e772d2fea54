"""BodyTrace cellular scale: one message object, or a JSON array of them.

Shape followed:

    {"deviceId": 1234567890123, "ts": 1718984820000, "batteryVoltage": 5850,
     "rssi": -71, "values": {"unit": 1, "weight": 81650, "tare": 20}}

- `deviceId` is the scale's IMEI without leading zeros and without its last
  (Luhn check) digit: IMEI 012345678901234 arrives as 1234567890123. Devices
  must be registered under that number, which becomes `device_serial`.
- `ts` is milliseconds since 1970 in UTC.
- `values.weight` is always grams, whatever unit the display shows
  (`values.unit`, kept as provenance only); stored as kg rounded to 2 places.
- A message without `values.weight` is a status message (battery, signal):
  refused, not a reading.
- `values.tare` is the scale's zero offset in grams; above 100 g the scale
  is mis-calibrated and every weight is off by it, so the reading is refused
  and the practice is told to have the scale recalibrated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeGuard

from remotecare.ingest.measures import ReadingRefused, check_values, to_canonical
from remotecare.ingest.reading import IncomingReading, Parsed, Refusal
from remotecare.ingest.vendors.base import keep, load_items, not_an_object, number, path, refusal_from

MAX_TARE_G = 100
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class BodyTraceAdapter:
    vendor: str = "bodytrace"
    description: str = "BodyTrace cellular scale message (deviceId, ts in ms, values.weight in grams), or an array"

    def parse(self, body: bytes) -> list[Parsed]:
        items = load_items(body, "a BodyTrace scale message or an array of them")
        if isinstance(items, Refusal):
            return [items]
        return [_message(prefix, item) for prefix, item in items]


def _message(prefix: str, item: Any) -> Parsed:
    if not isinstance(item, dict):
        return not_an_object(prefix)
    device = item.get("deviceId")
    if not _whole(device) or device <= 0:
        return Refusal(path(prefix, "deviceId"), "is required: the scale's IMEI without its check digit, as a number")
    ts = item.get("ts")
    at = _time(ts)
    if at is None:
        return Refusal(path(prefix, "ts"), "is required: milliseconds since 1970-01-01 UTC, a whole number")

    values = item.get("values")
    values = values if isinstance(values, dict) else {}
    if values.get("weight") is None:
        return Refusal(path(prefix, "values.weight"), "no weight: a status message, not a reading")
    grams = _grams(values["weight"])
    if grams is None:
        return Refusal(path(prefix, "values.weight"), "must be a number of grams")
    tare = values.get("tare")
    if tare is not None:
        tare_g = _grams(tare)
        if tare_g is None:
            return Refusal(path(prefix, "values.tare"), "must be a number of grams")
        if tare_g > MAX_TARE_G:
            return Refusal(
                path(prefix, "values.tare"),
                f"is {tare_g:g} g: the scale is mis-calibrated (tare above {MAX_TARE_G} g), so its weights "
                "are offset; ask the practice to have the scale recalibrated, then weigh again",
            )
    try:
        kg = to_canonical("values.kg", grams, "g", "kg")
        checked = check_values("weight", {"kg": kg})
    except ReadingRefused as refused:
        return refusal_from(prefix, refused, {"values.kg": "values.weight"}, f"in kg, from {grams:g} g")

    provenance: dict[str, Any] = {}
    keep(provenance, "battery_mv", item.get("batteryVoltage"))
    keep(provenance, "rssi_dbm", item.get("rssi"))
    keep(provenance, "display_unit", values.get("unit"))
    keep(provenance, "tare_g", tare)
    return IncomingReading(
        type="weight",
        values=checked,
        at=at,
        device_serial=str(device),
        external_id=f"bodytrace:{device}:{ts}",
        provenance=provenance,
    )


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _grams(value: Any) -> float | None:
    """A JSON number; BodyTrace does not quote its numbers, so a string is a different sender."""
    return None if isinstance(value, str) else number(value)


def _time(ts: Any) -> dt.datetime | None:
    if not _whole(ts) or ts < 0:
        return None
    try:
        return EPOCH + dt.timedelta(milliseconds=ts)
    except OverflowError:  # beyond year 9999
        return None
