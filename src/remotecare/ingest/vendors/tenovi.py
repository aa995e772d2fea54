"""Tenovi HWI measurement webhook: one measurement object, or an array of them ("Post as Array").

Shape followed (one object per measurement):

    {"metric": "blood_pressure", "device_name": "Tenovi BPM - L",
     "hwi_device_id": "<uuid>", "patient_id": "<client's id>",
     "hardware_uuid": "<gateway id>", "sensor_code": "10",
     "value_1": "128.00", "value_2": "82.00",
     "created": "2024-06-21T15:47:00.000000Z", "timestamp": "2024-06-21T15:47:00.000000Z",
     "timezone_offset": -4, "estimated_timestamp": false,
     "filter_params": {"measurement_index": 190}}

Confirmed from Tenovi's documentation (docs.tenovi.com: measurement-webhooks,
measurement-data and the device pages for the BPM, glucometer and Nonin pulse ox):
- the field list above; "Post as Array" bundles coincident measurements
  (e.g. blood_pressure and pulse) in one JSON array, all with the same
  `timestamp`; `filter_params.measurement_index` tells apart measurements of
  one type that share a timestamp;
- `hwi_device_id` identifies the activated device; `hardware_uuid` is the
  gateway and changes when a gateway is replaced, so it is kept only as
  provenance, never used to identify anything;
- metric names and units: `blood_pressure` (value_1 systolic, value_2
  diastolic, mmHg), `pulse` (beats/min), `glucose` (mg/dL; `meal_context` in
  filter_params is pre-prandial, post-prandial or fasting), `spO2` (percent;
  value_2 is a standard deviation on some oximeters and is not used),
  `weight`; `irregular_heartbeat` (value 1, sent only when detected) and
  `battery_percentage` are not measurements;
- timestamps are ISO 8601 in UTC with a "Z" (the API's query parameters are
  documented as `YYYY-MM-DDTHH:MM:SSZ`).

Seen in public integration code rather than in Tenovi's own pages, so assumed:
- `weight` value_1 is in pounds (Metriport's Tenovi mapping converts it from lb);
- value_1/value_2 arrive as decimal strings ("72.00"), sometimes as numbers,
  and value_2 is "0.00" or null for single-value metrics;
- `timezone_offset` is the device's offset in hours (-4 in samples); it is
  kept as sent, not used to compute the time;
- `estimated_timestamp` is true when the time was not the device's own clock.

A timestamp without an offset is refused: Tenovi documents UTC with "Z", and
nothing says an offset-less time is UTC rather than the patient's local time,
which would move the reading by hours and possibly onto another billing day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from remotecare.ingest.measures import ReadingRefused, check_values, to_canonical
from remotecare.ingest.reading import IncomingReading, Parsed, Refusal
from remotecare.ingest.vendors.base import keep, load_items, not_an_object, number, path, refusal_from

# Tenovi metric -> (reading type, {our value name: Tenovi field}).
READINGS: dict[str, tuple[str, dict[str, str]]] = {
    "blood_pressure": ("blood_pressure", {"systolic": "value_1", "diastolic": "value_2"}),
    "pulse": ("heart_rate", {"bpm": "value_1"}),
    "weight": ("weight", {"kg": "value_1"}),
    "glucose": ("glucose", {"mg_dl": "value_1"}),
    "spO2": ("spo2", {"percent": "value_1"}),
}
ALIASES = {"spo2": "spO2"}  # Tenovi writes spO2; some integrations lower-case it
STATUS = {
    "battery_percentage": "is device status (battery level), not a reading",
    "irregular_heartbeat": "is a flag the cuff sends alongside a blood pressure reading, not a reading itself",
}
MEALS = frozenset({"pre-prandial", "post-prandial", "fasting"})
MAX_ID = 100  # Tenovi's ids are UUIDs (36 characters)


@dataclass(frozen=True, slots=True)
class TenoviAdapter:
    vendor: str = "tenovi"
    description: str = "Tenovi HWI measurement webhook (one measurement object, or an array with Post as Array)"

    def parse(self, body: bytes) -> list[Parsed]:
        items = load_items(body, "a Tenovi measurement object or an array of them")
        if isinstance(items, Refusal):
            return [items]
        return [_measurement(prefix, item) for prefix, item in items]


def _measurement(prefix: str, item: Any) -> Parsed:
    if not isinstance(item, dict):
        return not_an_object(prefix)
    metric = item.get("metric")
    if not isinstance(metric, str) or not metric:
        return Refusal(path(prefix, "metric"), "is required: the Tenovi metric name, e.g. blood_pressure")
    metric = ALIASES.get(metric, metric)
    if metric in STATUS:
        return Refusal(path(prefix, "metric"), f"{metric!r} {STATUS[metric]}; nothing stored")
    if metric not in READINGS:
        return Refusal(
            path(prefix, "metric"), f"{metric!r:.40} is not a supported reading (one of {', '.join(READINGS)})"
        )

    device = item.get("hwi_device_id")
    if not isinstance(device, str) or not device.strip() or len(device.strip()) > MAX_ID:
        return Refusal(
            path(prefix, "hwi_device_id"),
            "is required: the HWI device id Tenovi gave at activation (1 to 100 characters)",
        )
    device = device.strip()

    at = _timestamp(item.get("timestamp"))
    if isinstance(at, str):
        return Refusal(path(prefix, "timestamp"), at)

    reading_type, fields = READINGS[metric]
    values: dict[str, Any] = {}
    for name, source in fields.items():
        raw = item.get(source)
        if raw is None:
            continue  # check_values names the missing value (mapped back to value_1/value_2)
        value = number(raw)
        if value is None:
            return Refusal(path(prefix, source), f"must be a number (got {raw!r:.40})")
        values[name] = value
    params = item.get("filter_params")
    params = params if isinstance(params, dict) else {}
    if metric == "glucose" and params.get("meal_context") in MEALS:
        values["meal"] = params["meal_context"]
    note = ""
    try:
        if metric == "weight" and "kg" in values:  # Tenovi reports pounds
            note = f"in kg, from {values['kg']:g} lb"
            values["kg"] = to_canonical("values.kg", values["kg"], "[lb_av]", "kg")
        checked = check_values(reading_type, values)
    except ReadingRefused as refused:
        names = {f"values.{name}": source for name, source in fields.items()}
        return refusal_from(prefix, refused, names, note)

    index = params.get("measurement_index")
    index = index if isinstance(index, int) and not isinstance(index, bool) else None
    # The measurement_index tells apart two readings of one metric that share a timestamp.
    external_id = f"tenovi:{device}:{metric}:{at.isoformat().replace('+00:00', 'Z')}"
    if index is not None:
        external_id += f"#{index}"
    return IncomingReading(
        type=reading_type,
        values=checked,
        at=at,
        device_serial=device,
        external_id=external_id,
        provenance=_provenance(item, index),
    )


def _timestamp(raw: Any) -> dt.datetime | str:
    """The measurement time in UTC, or why it cannot be used."""
    if not isinstance(raw, str) or not raw.strip():
        return "is required: the measurement time, ISO 8601 in UTC (e.g. 2024-06-21T15:47:00Z)"
    try:
        at = dt.datetime.fromisoformat(raw.strip())
        if at.utcoffset() is None:
            return (
                f"{raw!r:.40} has no UTC offset; Tenovi sends UTC with a 'Z' suffix, and a time without "
                "one could be local time, so it is refused rather than guessed"
            )
        return at.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # not ISO 8601, or out of range once moved to UTC
        return f"{raw!r:.40} is not an ISO 8601 date-time (e.g. 2024-06-21T15:47:00Z)"


def _provenance(item: dict[str, Any], index: int | None) -> dict[str, Any]:
    provenance: dict[str, Any] = {}
    keep(provenance, "timezone_offset", item.get("timezone_offset"))
    keep(provenance, "estimated_timestamp", item.get("estimated_timestamp"))
    keep(provenance, "gateway_id", item.get("hardware_uuid"))
    keep(provenance, "sensor_code", item.get("sensor_code"))
    keep(provenance, "device_name", item.get("device_name"))
    keep(provenance, "vendor_patient_id", item.get("patient_id"))
    if index is not None:
        provenance["measurement_index"] = index
    return provenance
