"""Vendor adapters: Tenovi HWI measurement webhooks and BodyTrace scale messages, on synthetic payloads."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from remotecare.ingest.reading import IncomingReading, Parsed, Refusal
from remotecare.ingest.vendors import ADAPTERS, BodyTraceAdapter, TenoviAdapter

AT = dt.datetime(2024, 6, 21, 15, 47, tzinfo=dt.UTC)
DEVICE = "0b9f3c1e-5d2a-4c7b-9e8f-123456789abc"


def parse(vendor: str, payload: Any) -> list[Parsed]:
    return ADAPTERS[vendor].parse(json.dumps(payload).encode())


def reading(item: Parsed) -> IncomingReading:
    assert isinstance(item, IncomingReading), item
    assert item.patient_id is None and item.device_id is None and not item.manual
    assert item.at.utcoffset() == dt.timedelta(0)
    json.dumps(item.provenance)  # JSON-serialisable, or this raises
    return item


def only(items: list[Parsed]) -> Parsed:
    assert len(items) == 1, items
    return items[0]


def test_adapters_are_found_by_their_vendor_name() -> None:
    assert set(ADAPTERS) == {"tenovi", "bodytrace"}
    assert isinstance(ADAPTERS["tenovi"], TenoviAdapter)
    assert isinstance(ADAPTERS["bodytrace"], BodyTraceAdapter)
    for name, adapter in ADAPTERS.items():
        assert adapter.vendor == name
        assert adapter.description and "\n" not in adapter.description


# --- Tenovi -----------------------------------------------------------------------------------


def tenovi(metric: str = "blood_pressure", **fields: Any) -> dict[str, Any]:
    """A measurement as Tenovi posts it (values as decimal strings), with `fields` overriding."""
    item: dict[str, Any] = {
        "metric": metric,
        "device_name": "Tenovi BPM - L",
        "hwi_device_id": DEVICE,
        "patient_id": "practice-patient-17",
        "hardware_uuid": "FB5E23D5E7F7",
        "sensor_code": "10",
        "value_1": "128.00",
        "value_2": "82.00",
        "created": "2024-06-21T15:47:00.000000Z",
        "timestamp": "2024-06-21T15:47:00.000000Z",
        "timezone_offset": -4,
        "estimated_timestamp": False,
        "filter_params": {"measurement_index": 190},
    }
    item.update(fields)
    return item


def test_tenovi_blood_pressure_maps_value_1_and_value_2_with_provenance() -> None:
    bp = reading(only(parse("tenovi", tenovi())))
    assert bp.type == "blood_pressure"
    assert bp.values == {"systolic": 128.0, "diastolic": 82.0}
    assert bp.at == AT
    assert bp.device_serial == DEVICE
    assert bp.external_id == f"tenovi:{DEVICE}:blood_pressure:2024-06-21T15:47:00Z#190"
    assert bp.provenance == {
        "timezone_offset": -4,
        "estimated_timestamp": False,
        "gateway_id": "FB5E23D5E7F7",
        "sensor_code": "10",
        "device_name": "Tenovi BPM - L",
        "vendor_patient_id": "practice-patient-17",
        "measurement_index": 190,
    }


def test_tenovi_pulse_is_heart_rate_and_ignores_value_2() -> None:
    pulse = reading(only(parse("tenovi", tenovi("pulse", value_1="72.00", value_2="0.00"))))
    assert (pulse.type, pulse.values) == ("heart_rate", {"bpm": 72.0})


def test_tenovi_weight_is_converted_from_pounds_to_kg() -> None:
    weight = reading(only(parse("tenovi", tenovi("weight", value_1="180.0", value_2=None))))
    assert (weight.type, weight.values) == ("weight", {"kg": 81.65})  # 180 lb = 81.6466 kg
    heavier = reading(only(parse("tenovi", tenovi("weight", value_1=200, value_2=None))))
    assert heavier.values == {"kg": 90.72}  # 200 lb = 90.7185 kg


def test_tenovi_glucose_keeps_a_documented_meal_context() -> None:
    fasting = tenovi("glucose", value_1="104.00", value_2=None, filter_params={"meal_context": "fasting"})
    glucose = reading(only(parse("tenovi", fasting)))
    assert (glucose.type, glucose.values) == ("glucose", {"mg_dl": 104.0, "meal": "fasting"})
    odd = tenovi("glucose", value_1="104.00", value_2=None, filter_params={"meal_context": "brunch"})
    assert reading(only(parse("tenovi", odd))).values == {"mg_dl": 104.0}


@pytest.mark.parametrize("metric", ["spO2", "spo2"])
def test_tenovi_spo2_is_a_percentage_and_ignores_the_standard_deviation(metric: str) -> None:
    spo2 = reading(only(parse("tenovi", tenovi(metric, value_1="97.00", value_2="1.20"))))
    assert (spo2.type, spo2.values) == ("spo2", {"percent": 97.0})
    assert spo2.external_id is not None and ":spO2:" in spo2.external_id


def test_tenovi_values_may_be_json_numbers() -> None:
    bp = reading(only(parse("tenovi", tenovi(value_1=131, value_2=84.5))))
    assert bp.values == {"systolic": 131.0, "diastolic": 84.5}


@pytest.mark.parametrize(
    ("metric", "says"),
    [
        ("battery_percentage", "'battery_percentage' is device status (battery level), not a reading"),
        ("irregular_heartbeat", "'irregular_heartbeat' is a flag the cuff sends alongside"),
        ("steps", "'steps' is not a supported reading (one of blood_pressure, pulse, weight, glucose, spO2)"),
    ],
)
def test_tenovi_status_and_unknown_metrics_are_refused_not_stored(metric: str, says: str) -> None:
    refused = only(parse("tenovi", tenovi(metric, value_1="1")))
    assert isinstance(refused, Refusal)
    assert refused.field == "metric"
    assert refused.message.startswith(says)


def test_tenovi_post_as_array_gives_one_item_each_with_field_paths_for_bad_ones() -> None:
    items = parse(
        "tenovi",
        [
            tenovi(),
            tenovi("pulse", value_1="seventy", value_2="0.00"),
            tenovi("battery_percentage", value_1="80.00"),
            "not an object",
            tenovi("pulse", value_1="72.00", value_2="0.00"),
        ],
    )
    assert len(items) == 5
    assert reading(items[0]).type == "blood_pressure"
    assert items[1] == Refusal("[1].value_1", "must be a number (got 'seventy')")
    assert isinstance(items[2], Refusal) and items[2].field == "[2].metric"
    assert items[3] == Refusal("[3]", "must be a JSON object")
    pulse = reading(items[4])
    assert pulse.at == reading(items[0]).at  # coincident measurements share the timestamp


@pytest.mark.parametrize(
    ("missing", "field", "says"),
    [
        ("metric", "metric", "is required: the Tenovi metric name"),
        ("hwi_device_id", "hwi_device_id", "is required: the HWI device id"),
        ("timestamp", "timestamp", "is required: the measurement time"),
        ("value_1", "value_1", "is required for blood_pressure"),
        ("value_2", "value_2", "is required for blood_pressure"),
    ],
)
def test_tenovi_missing_fields_are_named(missing: str, field: str, says: str) -> None:
    item = tenovi()
    del item[missing]
    refused = only(parse("tenovi", item))
    assert isinstance(refused, Refusal)
    assert (refused.field, refused.message[: len(says)]) == (field, says)
    in_array = parse("tenovi", [tenovi(), item])[1]
    assert isinstance(in_array, Refusal)
    assert (in_array.field, in_array.message) == (f"[1].{field}", refused.message)


def test_tenovi_a_null_diastolic_is_refused_as_missing() -> None:
    assert only(parse("tenovi", tenovi(value_2=None))) == Refusal("value_2", "is required for blood_pressure")


def test_tenovi_the_gateway_id_never_stands_in_for_the_device() -> None:
    refused = only(parse("tenovi", tenovi(hwi_device_id="", hardware_uuid=DEVICE)))
    assert isinstance(refused, Refusal)
    assert refused.field == "hwi_device_id"


def test_tenovi_out_of_range_values_are_refused_under_the_vendor_field() -> None:
    assert only(parse("tenovi", tenovi(value_1="400.00"))) == Refusal(
        "value_1", "400 is outside the plausible range 50 to 300"
    )
    assert only(parse("tenovi", tenovi(value_1="80.00", value_2="120.00"))) == Refusal(
        "value_2", "is not below the systolic pressure (values swapped?)"
    )
    assert only(parse("tenovi", tenovi("weight", value_1="1100", value_2=None))) == Refusal(
        "value_1", "498.95 is outside the plausible range 2 to 450 (in kg, from 1100 lb)"
    )
    assert only(parse("tenovi", tenovi("spO2", value_1="101.00", value_2=None))) == Refusal(
        "value_1", "101 is outside the plausible range 50 to 100"
    )


def test_tenovi_a_timestamp_without_offset_is_refused() -> None:
    refused = only(parse("tenovi", tenovi(timestamp="2024-06-21T15:47:00")))
    assert isinstance(refused, Refusal)
    assert refused.field == "timestamp"
    assert refused.message.startswith("'2024-06-21T15:47:00' has no UTC offset;")


def test_tenovi_an_offset_timestamp_is_converted_to_utc() -> None:
    bp = reading(only(parse("tenovi", tenovi(timestamp="2024-06-21T11:47:00-04:00"))))
    assert bp.at == AT and bp.at.tzinfo == dt.UTC
    assert bp.external_id == f"tenovi:{DEVICE}:blood_pressure:2024-06-21T15:47:00Z#190"


def test_tenovi_a_garbled_timestamp_is_refused() -> None:
    assert only(parse("tenovi", tenovi(timestamp="yesterday"))) == Refusal(
        "timestamp", "'yesterday' is not an ISO 8601 date-time (e.g. 2024-06-21T15:47:00Z)"
    )


def test_tenovi_redelivery_gives_the_same_external_ids() -> None:
    body = json.dumps([tenovi(), tenovi("pulse", value_1="72.00", value_2="0.00")]).encode()
    first = [reading(item).external_id for item in ADAPTERS["tenovi"].parse(body)]
    again = [reading(item).external_id for item in ADAPTERS["tenovi"].parse(body)]
    assert first == again
    assert len(set(first)) == 2
    # Re-encoded by the sender: other key order, numbers unquoted, "+00:00" instead of "Z", another gateway.
    reencoded = dict(reversed(list(tenovi(value_1=128, timestamp="2024-06-21T15:47:00+00:00").items())))
    reencoded["hardware_uuid"] = "A1B2C3D4E5F6"
    assert reading(only(parse("tenovi", reencoded))).external_id == first[0]


def test_tenovi_measurement_index_tells_apart_readings_sharing_a_timestamp() -> None:
    one, two = parse(
        "tenovi", [tenovi(filter_params={"measurement_index": 1}), tenovi(filter_params={"measurement_index": 2})]
    )
    assert reading(one).external_id != reading(two).external_id
    plain = reading(only(parse("tenovi", tenovi(filter_params=None))))
    assert plain.external_id == f"tenovi:{DEVICE}:blood_pressure:2024-06-21T15:47:00Z"


def test_tenovi_provenance_keeps_only_plain_values() -> None:
    odd = tenovi(timezone_offset={"hours": -4}, estimated_timestamp=True, hardware_uuid="x" * 500, sensor_code=None)
    assert reading(only(parse("tenovi", odd))).provenance == {
        "estimated_timestamp": True,
        "device_name": "Tenovi BPM - L",
        "vendor_patient_id": "practice-patient-17",
        "measurement_index": 190,
    }


# --- Bodies that are not the vendor's shape -------------------------------------------------------


@pytest.mark.parametrize("vendor", ["tenovi", "bodytrace"])
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe", "is not valid JSON"),
        (b"NaN", "is not valid JSON"),
        (b"[" * 100_000, "is not valid JSON"),
        (b"42", "must be a JSON object or an array of objects"),
        (b'"text"', "must be a JSON object or an array of objects"),
        (b"[]", "is an empty array: nothing to store"),
    ],
)
def test_a_body_that_is_not_the_vendor_shape_is_one_body_refusal(vendor: str, body: bytes, says: str) -> None:
    refused = only(ADAPTERS[vendor].parse(body))
    assert isinstance(refused, Refusal)
    assert refused.field == "body"
    assert refused.message.startswith(says)


# --- BodyTrace ------------------------------------------------------------------------------------


def bodytrace(**values: Any) -> dict[str, Any]:
    """A scale message (IMEI 012345678901234 -> deviceId 1234567890123), `values` overriding."""
    return {
        "deviceId": 1234567890123,
        "ts": 1_718_984_820_000,
        "batteryVoltage": 5850,
        "rssi": -71,
        "values": {"unit": 1, "weight": 81650, "tare": 20, **values},
    }


def test_bodytrace_weight_in_grams_becomes_kg() -> None:
    weight = reading(only(parse("bodytrace", bodytrace())))
    assert (weight.type, weight.values) == ("weight", {"kg": 81.65})
    assert weight.at == AT
    assert weight.device_serial == "1234567890123"
    assert weight.external_id == "bodytrace:1234567890123:1718984820000"
    assert weight.provenance == {"battery_mv": 5850, "rssi_dbm": -71, "display_unit": 1, "tare_g": 20}
    assert reading(only(parse("bodytrace", bodytrace(weight=72346)))).values == {"kg": 72.35}


def test_bodytrace_a_message_without_weight_is_a_status_message() -> None:
    status = bodytrace()
    del status["values"]["weight"]
    expected = Refusal("values.weight", "no weight: a status message, not a reading")
    assert only(parse("bodytrace", status)) == expected
    assert only(parse("bodytrace", {"deviceId": 1234567890123, "ts": 1_718_984_820_000, "rssi": -80})) == expected


def test_bodytrace_a_tare_above_100_g_is_refused_with_advice_to_recalibrate() -> None:
    assert reading(only(parse("bodytrace", bodytrace(tare=100)))).values == {"kg": 81.65}
    refused = only(parse("bodytrace", bodytrace(tare=101)))
    assert isinstance(refused, Refusal)
    assert refused.field == "values.tare"
    assert refused.message.startswith("is 101 g: the scale is mis-calibrated")
    assert "recalibrated" in refused.message


def test_bodytrace_out_of_range_weight_is_refused_under_values_weight() -> None:
    assert only(parse("bodytrace", bodytrace(weight=500_000))) == Refusal(
        "values.weight", "500 is outside the plausible range 2 to 450 (in kg, from 500000 g)"
    )


def test_bodytrace_array_gives_one_item_each_with_field_paths() -> None:
    status = bodytrace()
    del status["values"]["weight"]
    items = parse("bodytrace", [bodytrace(), status, bodytrace(tare=250), bodytrace(weight="81650")])
    assert reading(items[0]).values == {"kg": 81.65}
    assert items[1] == Refusal("[1].values.weight", "no weight: a status message, not a reading")
    assert isinstance(items[2], Refusal) and items[2].field == "[2].values.tare"
    assert items[3] == Refusal("[3].values.weight", "must be a number of grams")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"deviceId": None}, "deviceId"),
        ({"deviceId": "1234567890123"}, "deviceId"),
        ({"deviceId": 0}, "deviceId"),
        ({"ts": None}, "ts"),
        ({"ts": "1718984820000"}, "ts"),
        ({"ts": 1718984820000.5}, "ts"),
        ({"ts": -1}, "ts"),
        ({"ts": 10**20}, "ts"),
    ],
)
def test_bodytrace_bad_ids_and_times_are_named(change: dict[str, Any], field: str) -> None:
    refused = only(parse("bodytrace", {**bodytrace(), **change}))
    assert isinstance(refused, Refusal)
    assert refused.field == field


def test_bodytrace_redelivery_gives_the_same_external_id() -> None:
    body = json.dumps(bodytrace()).encode()
    first = reading(only(ADAPTERS["bodytrace"].parse(body)))
    again = reading(only(ADAPTERS["bodytrace"].parse(body)))
    assert first.external_id == again.external_id == "bodytrace:1234567890123:1718984820000"
    # The same measurement re-sent with a fresher battery and signal report keeps its id.
    resent = {**bodytrace(), "batteryVoltage": 5700, "rssi": -90}
    assert reading(only(parse("bodytrace", resent))).external_id == first.external_id
