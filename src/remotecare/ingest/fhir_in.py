"""FHIR R4 JSON -> readings: Observations one at a time, or transaction and batch Bundles of them.

Structure is checked with fhir.resources' R4B models (R4B is wire-compatible
with R4 for Observation and Bundle); everything after that is read from the
JSON as sent, because the models coerce (`true` to 1, `"72"` to 72) where a
reading must not. Nothing here raises for bad content: each problem becomes a
`Refusal` whose field is a FHIRPath-like path into what was sent
(`Observation.component[1].valueQuantity.code`).

Conventions a sender must follow:
- subject `Patient/<id>` (required); device `Device/<id>`, or `device.identifier.value` as its serial.
- effectiveDateTime or effectiveInstant with a UTC offset, or effectivePeriod (its end, else its start).
- status final, amended or corrected; anything else is not a reading to count.
- quantities in UCUM codes (valueQuantity.code), converted to our canonical units; a unit sent only as
  display text is refused, as is a unit we do not know: a wrong unit silently stored is worse.
- manual entry: Observation.method coding `https://remotecare.dev/fhir/CodeSystem/entry-method|manual`.
- the first identifier with a value becomes the reading's external id, `<system>|<value>`.
Provenance keeps the codes as sent, the status, the unit each value came in (a pain answer's
LOINC code in its place) and any components we do not store.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pydantic
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.observation import Observation

from remotecare.ingest import fhir_codes as codes
from remotecare.ingest.measures import BOOLEAN, MEASURES, UCUM, Number, ReadingRefused, Text, check_values, to_canonical
from remotecare.ingest.reading import IncomingReading, Parsed, Refusal

_ID = re.compile(r"([1-9][0-9]{0,17})")  # a positive id that fits a 64-bit column
_TIME_WITHOUT_OFFSET = re.compile(r"[^T]+T[0-9:.]+")
BUNDLE_TYPES = ("transaction", "batch")
_LARGEST = 1e15


class BundleRefused(ValueError):
    """A Bundle that cannot be read at all (not a Bundle, or neither transaction nor batch)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def parse_observation(resource: Any, path: str = "Observation") -> Parsed:
    """One Observation as an `IncomingReading`, or a `Refusal` naming the part at fault under `path`."""
    try:
        return _parse(resource, path)
    except ReadingRefused as refused:
        return Refusal(refused.field, refused.message)


def parse_bundle(resource: Any) -> tuple[str, list[Parsed]]:
    """A transaction or batch Bundle of Observation POSTs: its type and one result per entry, in order.

    Each entry is judged alone; a transaction's all-or-nothing rule is the caller's to apply.
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "Bundle":
        raise BundleRefused("Bundle.resourceType", "must be Bundle")
    shell = {key: value for key, value in resource.items() if key != "entry"}
    problem = _first_error(Bundle, shell, "Bundle")
    if problem is not None:
        raise BundleRefused(problem.field, problem.message)
    if resource.get("type") not in BUNDLE_TYPES:
        raise BundleRefused(
            "Bundle.type", f"{resource.get('type')!r} is not accepted (one of {', '.join(BUNDLE_TYPES)})"
        )
    entries = resource.get("entry", [])
    if not isinstance(entries, list):
        raise BundleRefused("Bundle.entry", "must be a list")
    return resource["type"], [_entry(entry, f"Bundle.entry[{index}]") for index, entry in enumerate(entries)]


def _entry(entry: Any, path: str) -> Parsed:
    if not isinstance(entry, dict):
        return Refusal(path, "must be an object")
    problem = _first_error(BundleEntry, {key: value for key, value in entry.items() if key != "resource"}, path)
    if problem is not None:
        return problem
    method = (entry.get("request") or {}).get("method")
    if method is None:
        return Refusal(f"{path}.request.method", "is required: readings are created with POST")
    if method != "POST":
        return Refusal(f"{path}.request.method", f"{method!r} is not accepted: readings are created with POST")
    resource = entry.get("resource")
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        return Refusal(f"{path}.resource.resourceType", "must be Observation")
    return parse_observation(resource, f"{path}.resource")


def _parse(resource: Any, path: str) -> IncomingReading:
    if not isinstance(resource, dict):
        raise ReadingRefused(path, "must be a JSON object")
    if resource.get("resourceType") != "Observation":
        raise ReadingRefused(f"{path}.resourceType", f"{resource.get('resourceType')!r} is not Observation")
    problem = _first_error(Observation, resource, path)
    if problem is not None:
        raise ReadingRefused(problem.field, problem.message)
    status = resource["status"]
    if status not in codes.STATUSES_STORED:
        raise ReadingRefused(f"{path}.status", f"{status!r}: only {', '.join(codes.STATUSES_STORED)} readings count")
    sent_codes = [_coding_key(coding) for coding in _codings(resource.get("code"))]
    reading_type = _reading_type(resource, path)
    patient_id = _patient(resource, path)
    device_id, device_serial = _device(resource, path)
    at = _effective(resource, path)
    units: dict[str, str] = {}
    ignored: list[str] = []
    values = _values(resource, path, reading_type, units, ignored)
    provenance: dict[str, Any] = {"codes": sent_codes, "status": status}
    if units:
        provenance["units"] = units
    if ignored:
        provenance["ignored_components"] = ignored
    return IncomingReading(
        type=reading_type,
        values=values,
        at=at,
        patient_id=patient_id,
        device_id=device_id,
        device_serial=device_serial,
        manual=any(
            c.get("system") == codes.ENTRY_METHOD and c.get("code") == codes.MANUAL
            for c in _codings(resource.get("method"))
        ),
        external_id=_external_id(resource),
        provenance=provenance,
    )


def _first_error(model: type[pydantic.BaseModel], data: dict[str, Any], path: str) -> Refusal | None:
    """The first problem fhir.resources finds, at a FHIRPath-like field under `path`."""
    try:
        model.model_validate(data)
    except pydantic.ValidationError as error:
        problems = error.errors()
        first = problems[0]
        field = _fhir_path(path, first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        value = _at(data, first["loc"])
        if _is_effective(first["loc"]) and isinstance(value, str) and _TIME_WITHOUT_OFFSET.fullmatch(value):
            message = f"{value!r} has no UTC offset, so its day cannot be known: add Z or +hh:mm"
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        return Refusal(field, message)
    return None


def _fhir_path(path: str, loc: tuple[int | str, ...]) -> str:
    field = path
    for part in loc:
        if isinstance(part, int):
            field += f"[{part}]"
        else:
            field += ".resourceType" if part == "resource_type" else f".{part}"
    return field


def _at(data: Any, loc: tuple[int | str, ...]) -> Any:
    for part in loc:
        if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _is_effective(loc: tuple[int | str, ...]) -> bool:
    return bool(loc) and str(loc[0]).startswith("effective")


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [coding for coding in concept.get("coding") or [] if isinstance(coding, dict)]


def _coding_key(coding: dict[str, Any]) -> str:
    return f"{coding.get('system') or ''}|{coding.get('code') or ''}"


def _reading_type(resource: dict[str, Any], path: str) -> str:
    strong: set[str] = set()
    weak: set[str] = set()
    for coding in _codings(resource.get("code")):
        system, code = coding.get("system"), coding.get("code")
        if system == codes.LOINC and code in codes.TYPE_BY_LOINC:
            strong.add(codes.TYPE_BY_LOINC[code])
        elif system == codes.LOINC and code in codes.WEAK_CODES:
            weak.add(codes.WEAK_CODES[code])
        elif system == codes.READING_TYPE and code in MEASURES:
            strong.add(code)
    found = strong or weak
    if len(found) > 1:
        raise ReadingRefused(f"{path}.code", f"its codings name different reading types ({', '.join(sorted(found))})")
    if not found:
        raise ReadingRefused(
            f"{path}.code",
            f"no coding names a reading type we accept (LOINC vital signs, or {codes.READING_TYPE} with a type name)",
        )
    return found.pop()


def _reference_id(reference: Any, kind: str, field: str) -> int:
    match = _ID.fullmatch(reference.removeprefix(f"{kind}/")) if isinstance(reference, str) else None
    if match is None or not reference.startswith(f"{kind}/"):
        raise ReadingRefused(field, f"{reference!r} is not {kind}/<id> with a positive whole-number id")
    return int(match.group(1))


def _patient(resource: dict[str, Any], path: str) -> int:
    subject = resource.get("subject")
    if not subject or "reference" not in subject:
        raise ReadingRefused(f"{path}.subject", "is required: the patient as Patient/<id>")
    return _reference_id(subject["reference"], "Patient", f"{path}.subject.reference")


def _device(resource: dict[str, Any], path: str) -> tuple[int | None, str | None]:
    device = resource.get("device") or {}
    device_id = None
    if "reference" in device:
        device_id = _reference_id(device["reference"], "Device", f"{path}.device.reference")
    serial = (device.get("identifier") or {}).get("value")
    return device_id, serial.strip() if isinstance(serial, str) and serial.strip() else None


def _effective(resource: dict[str, Any], path: str) -> dt.datetime:
    if "effectiveDateTime" in resource:
        return _instant(resource["effectiveDateTime"], f"{path}.effectiveDateTime")
    if "effectiveInstant" in resource:
        return _instant(resource["effectiveInstant"], f"{path}.effectiveInstant")
    if "effectivePeriod" in resource:
        period = resource["effectivePeriod"]
        end = "end" if "end" in period else "start"
        if end in period:
            return _instant(period[end], f"{path}.effectivePeriod.{end}")
        raise ReadingRefused(f"{path}.effectivePeriod", "has neither start nor end")
    if "effectiveTiming" in resource:
        raise ReadingRefused(f"{path}.effectiveTiming", "is not accepted: a reading has one time")
    raise ReadingRefused(
        f"{path}.effectiveDateTime", "is required (or effectiveInstant, or effectivePeriod): when it was measured"
    )


def _instant(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str) or "T" not in value:
        raise ReadingRefused(field, f"{value!r} is a date without a time: a reading needs its time and UTC offset")
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ReadingRefused(field, f"{value!r} is not a date and time") from None
    if at.tzinfo is None:
        raise ReadingRefused(field, f"{value!r} has no UTC offset, so its day cannot be known: add Z or +hh:mm")
    return at


def _external_id(resource: dict[str, Any]) -> str | None:
    for identifier in resource.get("identifier") or []:
        value = identifier.get("value")
        if isinstance(value, str) and value:
            return f"{identifier.get('system') or ''}|{value}"
    return None


def _values(
    resource: dict[str, Any], path: str, reading_type: str, units: dict[str, str], ignored: list[str]
) -> dict[str, Any]:
    """The reading's values in canonical units, checked; `units` and `ignored` collect provenance."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}  # value name -> where it was sent, to word check_values' refusals

    def add(name: str, element: dict[str, Any], at: str) -> None:
        sent = _value(element, at, reading_type, name, units)
        if sent is None:
            return
        if name in values:
            raise ReadingRefused(at, f"gives {name} a second time")
        values[name], origins[name] = sent

    main = codes.main_value(reading_type)
    value_key = _value_key(resource)
    if value_key is not None:
        if main is None:
            raise ReadingRefused(f"{path}.{value_key}", f"{reading_type} carries its values as components")
        add(main, resource, path)
    for index, component in enumerate(resource.get("component") or []):
        at = f"{path}.component[{index}]"
        name = _component_value(component, at, reading_type)
        if name is None:
            ignored.extend(_coding_key(coding) for coding in _codings(component.get("code")))
        else:
            add(name, component, at)
    try:
        return check_values(reading_type, values)
    except ReadingRefused as refused:
        name = refused.field.removeprefix("values.")
        if name in origins:
            raise ReadingRefused(origins[name], refused.message) from None
        where = f"{path}.value[x]" if name == main else f"{path}.component"
        message = refused.message if refused.field == "values" else f"{name} {refused.message}"
        raise ReadingRefused(where, message) from None


def _component_value(component: dict[str, Any], at: str, reading_type: str) -> str | None:
    """The value a component carries; None for one we do not store (a device's extra measure)."""
    for coding in _codings(component.get("code")):
        system, code = coding.get("system"), coding.get("code")
        if system == codes.LOINC and isinstance(code, str):
            name = codes.loinc_component(reading_type, code)
            if name is not None:
                return name
        if system == codes.READING_VALUE:
            if code not in MEASURES[reading_type].values:
                allowed = ", ".join(MEASURES[reading_type].values)
                raise ReadingRefused(f"{at}.code", f"{code!r} is not a value of {reading_type} (one of {allowed})")
            return str(code)
    return None


def _value_key(element: dict[str, Any]) -> str | None:
    # A value[x] sent as null carries no value: as if it were left out.
    return next(
        (key for key, value in element.items() if key.startswith("value") and key[5:6].isupper() and value is not None),
        None,
    )


def _value(
    element: dict[str, Any], at: str, reading_type: str, name: str, units: dict[str, str]
) -> tuple[Any, str] | None:
    """One value[x] as (value in the canonical unit, its field); None when the element carries none."""
    key = _value_key(element)
    if key is None:
        return None
    kind = MEASURES[reading_type].values[name]
    field = f"{at}.{key}"
    if kind == BOOLEAN or isinstance(kind, Text):
        expected = "valueBoolean" if kind == BOOLEAN else "valueString"
        if key != expected:
            raise ReadingRefused(field, f"{name} is sent as {expected}")
        return element[key], field
    assert isinstance(kind, Number)
    if key == "valueQuantity":
        return _quantity(element[key], field, name, units), f"{field}.value"
    if key == "valueInteger":
        # A bare integer has no unit: fine for a score or a count, not for kg or mmHg.
        if name in UCUM and "1" not in UCUM[name]:
            raise ReadingRefused(field, f"{name} needs a unit: send valueQuantity with a UCUM code")
        return element[key], field
    answers = codes.ANSWERS_BY_VALUE.get((reading_type, name))
    if key == "valueCodeableConcept" and answers is not None:
        for coding in _codings(element[key]):
            if coding.get("system") == codes.LOINC and coding.get("code") in answers:
                units[name] = str(coding["code"])
                return answers[coding["code"]], field
        raise ReadingRefused(field, f"has no LOINC answer code for 0 to 10 ({', '.join(answers)})")
    raise ReadingRefused(field, f"is not accepted for {name}: send valueQuantity or valueInteger")


def _quantity(quantity: dict[str, Any], field: str, name: str, units: dict[str, str]) -> Any:
    number = quantity.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ReadingRefused(f"{field}.value", "must be a JSON number")
    if abs(number) > _LARGEST:  # beyond any plausible reading, and beyond what a float holds exactly
        raise ReadingRefused(f"{field}.value", "is far outside any plausible reading")
    if "comparator" in quantity:
        raise ReadingRefused(f"{field}.comparator", "is not accepted: a reading is an exact value")
    code, system = quantity.get("code"), quantity.get("system")
    accepted = codes.units_for(name)
    if accepted is None:  # a count: no unit to convert
        if code is not None or "unit" in quantity:
            raise ReadingRefused(f"{field}.code", f"{name} is a count and takes no unit")
        return number
    if code is None:
        if "unit" in quantity:
            raise ReadingRefused(
                f"{field}.code",
                f"unit {quantity['unit']!r} is given only as text: send its UCUM code in code, "
                f"with system {codes.UCUM_SYSTEM}",
            )
        raise ReadingRefused(f"{field}.code", f"has no unit (expected one of {', '.join(accepted)})")
    if system is not None and system != codes.UCUM_SYSTEM:
        raise ReadingRefused(f"{field}.system", f"must be {codes.UCUM_SYSTEM}")
    units[name] = code
    if name in UCUM:
        return to_canonical(f"{field}.code", number, code, name)
    factor = accepted.get(code)
    if factor is None:
        raise ReadingRefused(f"{field}.code", f"unit {code!r} is not accepted here (one of {', '.join(accepted)})")
    return number if factor == 1.0 else number * factor
