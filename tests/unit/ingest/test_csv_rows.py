"""CSV rows into readings: header rules, line numbers, and how each cell is typed (synthetic files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from remotecare.ingest.csv_rows import CsvError, read_rows
from remotecare.ingest.reading import IncomingReading, Parsed, Refusal

HEADER = "patient,device,type,at,manual,external_id,systolic,diastolic,pulse,kg,taken,medication"


def rows(tmp_path: Path, content: str | bytes) -> list[tuple[int, Parsed]]:
    path = tmp_path / "readings.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return list(read_rows(path))


def reading(item: Parsed) -> IncomingReading:
    assert isinstance(item, IncomingReading), item
    return item


def refusal(item: Parsed) -> Refusal:
    assert isinstance(item, Refusal), item
    return item


def test_a_blood_pressure_row_becomes_a_reading_with_typed_values(tmp_path: Path) -> None:
    [(line, item)] = rows(tmp_path, f"{HEADER}\n7,BP-1,blood_pressure,2025-03-10T03:30:00Z,no,ext-1,128,82,71,,,\n")
    assert line == 2
    assert reading(item) == IncomingReading(
        type="blood_pressure",
        values={"systolic": 128, "diastolic": 82, "pulse": 71},
        at=dt.datetime(2025, 3, 10, 3, 30, tzinfo=dt.UTC),
        patient_id=7,
        device_serial="BP-1",
        manual=False,
        external_id="ext-1",
    )


def test_integral_text_is_an_int_and_anything_else_a_float(tmp_path: Path) -> None:
    content = "patient,type,at,kg\n" + "".join(
        f"1,weight,2025-03-01T08:00:00-06:00,{kg}\n" for kg in ("81", "81.0", "81.25", "+81", "8.1e1", ".5")
    )
    values = [reading(item).values["kg"] for _, item in rows(tmp_path, content)]
    assert values == [81, 81.0, 81.25, 81, 81.0, 0.5]
    assert [type(value) for value in values] == [int, float, float, int, float, float]


@pytest.mark.parametrize("text", ["heavy", "81,5", "1_000", "nan", "inf", "0x51", "81 kg"])
def test_text_that_is_not_plain_decimal_notation_is_refused_as_a_number(tmp_path: Path, text: str) -> None:
    [(_, item)] = rows(tmp_path, f'patient,type,at,kg\n1,weight,2025-03-01T08:00:00Z,"{text}"\n')
    assert refusal(item) == Refusal("kg", f"is not a number: {text!r}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("yes", True), ("1", True), ("false", False), ("No", False), ("0", False)],
)
def test_booleans_take_true_false_yes_no_1_0(tmp_path: Path, text: str, expected: bool) -> None:
    content = f"patient,type,at,taken,manual\n1,medication_adherence,2025-03-01T08:00:00Z,{text},{text}\n"
    [(_, item)] = rows(tmp_path, content)
    assert reading(item).values == {"taken": expected}
    assert reading(item).manual is expected


def test_a_boolean_that_is_not_one_of_the_words_is_refused_naming_its_column(tmp_path: Path) -> None:
    content = "patient,type,at,taken,manual\n1,medication_adherence,2025-03-01T08:00:00Z,maybe,\n"
    content += "1,medication_adherence,2025-03-01T08:00:00Z,yes,sometimes\n"
    items = [refusal(item) for _, item in rows(tmp_path, content)]
    assert [item.field for item in items] == ["taken", "manual"]
    assert items[0].message == "must be true or false (or yes/no, 1/0), not 'maybe'"


def test_manual_is_false_when_the_column_is_absent_or_empty(tmp_path: Path) -> None:
    absent = rows(tmp_path, "patient,type,at,kg\n1,weight,2025-03-01T08:00:00Z,80\n")
    empty = rows(tmp_path, "patient,type,at,kg,manual\n1,weight,2025-03-01T08:00:00Z,80,\n")
    assert reading(absent[0][1]).manual is False
    assert reading(empty[0][1]).manual is False


def test_a_byte_order_mark_does_not_become_part_of_the_first_column(tmp_path: Path) -> None:
    content = "\ufeffPatient,type,at,kg\r\n1,weight,2025-03-01T08:00:00Z,80\r\n".encode()
    [(line, item)] = rows(tmp_path, content)
    assert line == 2 and reading(item).patient_id == 1


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file(tmp_path: Path) -> None:
    content = (
        "\n\npatient,type,at,kg\n\n1,weight,2025-03-01T08:00:00Z,80\n   \n,,,\n1,weight,2025-03-02T08:00:00Z,81\n\n"
    )
    items = rows(tmp_path, content)
    assert [line for line, _ in items] == [5, 8]
    assert [reading(item).values["kg"] for _, item in items] == [80, 81]


def test_a_quoted_cell_over_two_lines_is_numbered_by_its_first_line(tmp_path: Path) -> None:
    content = (
        "patient,type,at,taken,medication\n"
        '1,medication_adherence,2025-03-01T08:00:00Z,yes,"lisinopril\n10 mg"\n'
        "1,medication_adherence,2025-03-02T08:00:00Z,no,\n"
    )
    items = rows(tmp_path, content)
    assert [line for line, _ in items] == [2, 4]
    assert reading(items[0][1]).values == {"taken": True, "medication": "lisinopril\n10 mg"}
    assert reading(items[1][1]).values == {"taken": False}  # an empty cell is no value


def test_header_names_are_case_insensitive_and_in_any_order(tmp_path: Path) -> None:
    [(_, item)] = rows(tmp_path, "KG, At ,TYPE,Patient\n80.5,2025-03-01T08:00:00+00:00,weight,3\n")
    assert reading(item).values == {"kg": 80.5}
    assert reading(item).patient_id == 3


def test_a_row_with_the_wrong_number_of_cells_is_refused_on_its_own(tmp_path: Path) -> None:
    content = "patient,type,at,kg\n1,weight,2025-03-01T08:00:00Z\n1,weight,2025-03-01T08:00:00Z,80,extra\n"
    content += "1,weight,2025-03-02T08:00:00Z,81\n"
    items = rows(tmp_path, content)
    assert [(line, refusal(item)) for line, item in items[:2]] == [
        (2, Refusal("row", "has 3 cells; the header has 4")),
        (3, Refusal("row", "has 5 cells; the header has 4")),
    ]
    assert reading(items[2][1]).values == {"kg": 81}


def test_a_value_in_a_column_the_type_does_not_have_is_refused_naming_that_column(tmp_path: Path) -> None:
    [(_, item)] = rows(tmp_path, "patient,type,at,kg,systolic\n1,weight,2025-03-01T08:00:00Z,80,120\n")
    assert refusal(item) == Refusal("systolic", "is not a value of weight (its values: kg)")


def test_a_time_without_a_utc_offset_is_refused(tmp_path: Path) -> None:
    content = "patient,type,at,kg\n1,weight,2025-03-01T08:00:00,80\n1,weight,2025-03-01,80\n1,weight,noon,80\n"
    items = [refusal(item) for _, item in rows(tmp_path, content)]
    assert [item.field for item in items] == ["at", "at", "at"]
    assert items[0].message.startswith("'2025-03-01T08:00:00' has no UTC offset")
    assert items[1].message.startswith("'2025-03-01' has no UTC offset")
    assert items[2].message == "'noon' is not an ISO 8601 date and time"


def test_patient_and_type_are_checked_before_the_values(tmp_path: Path) -> None:
    content = "patient,type,at,kg\n,weight,2025-03-01T08:00:00Z,x\nP-1,weight,2025-03-01T08:00:00Z,x\n"
    content += "1,weigth,2025-03-01T08:00:00Z,x\n0,weight,2025-03-01T08:00:00Z,80\n"
    items = [refusal(item) for _, item in rows(tmp_path, content)]
    assert [item.field for item in items] == ["patient", "patient", "type", "patient"]
    assert items[2].message.startswith("'weigth' is not a reading type (one of blood_pressure, weight,")


def test_an_over_long_device_serial_is_refused(tmp_path: Path) -> None:
    [(_, item)] = rows(tmp_path, f"patient,device,type,at,kg\n1,{'S' * 65},weight,2025-03-01T08:00:00Z,80\n")
    assert refusal(item) == Refusal("device", "is longer than 64 characters")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("patient,type,at,kg,sytolic", "unknown column 'sytolic'"),
        ("patient,type,at,kg,", "unknown column ''"),
        ("patient,type,kg", "missing column 'at'"),
        ("patient,type,at,kg,KG", "column 'kg' appears more than once"),
    ],
)
def test_a_wrong_header_is_an_error_for_the_whole_file(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(CsvError) as error:
        rows(tmp_path, f"{header}\n1,weight,2025-03-01T08:00:00Z,80,81\n")
    assert str(error.value).startswith(message)


def test_an_empty_file_and_a_missing_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="the file is empty"):
        rows(tmp_path, "\n\n")
    with pytest.raises(CsvError, match="No such file"):
        list(read_rows(tmp_path / "absent.csv"))


def test_a_line_that_is_not_utf8_is_an_error_naming_its_line(tmp_path: Path) -> None:
    content = b"patient,type,at,taken,medication\n1,medication_adherence,2025-03-01T08:00:00Z,yes,caf\xe9\n"
    with pytest.raises(CsvError, match=r"^line 2: not UTF-8 text"):
        rows(tmp_path, content)


def test_rows_are_read_one_at_a_time_so_a_later_bad_line_comes_after_the_rows_before_it(tmp_path: Path) -> None:
    path = tmp_path / "readings.csv"
    path.write_bytes(b"patient,type,at,kg\n1,weight,2025-03-01T08:00:00Z,80\n1,weight,\xff\n")
    iterator = read_rows(path)
    line, item = next(iterator)
    assert (line, reading(item).values) == (2, {"kg": 80})
    with pytest.raises(CsvError, match=r"^line 3: not UTF-8 text"):
        next(iterator)
