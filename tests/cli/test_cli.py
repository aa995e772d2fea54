"""The `remotecare` command line: evaluate, --check, bad input (exit 2), rules show/diff and demo."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from remotecare.cli import app

SHARED = Path(__file__).parents[3] / "shared" / "scenarios"
BASIC = SHARED / "rpm-2023-basic.json"

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def basic() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BASIC.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "scenario.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def changed(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(basic())
    change(data)
    return data


def row_of(output: str, code: str) -> str:
    """The table row that starts with `code` (rich draws rows as │ cell │ cell │)."""
    rows = [line for line in output.splitlines() if line.lstrip("│┃ ").startswith(code)]
    assert len(rows) == 1, f"{code}: {rows}"
    return rows[0]


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("│").split("│")]


def diff_rows(output: str) -> list[tuple[str, str, str, str, str]]:
    """The `rules diff` table as (code, change, field, old, new), the code and change carried down."""
    rows: list[tuple[str, str, str, str, str]] = []
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        code, change, field, old, new = cells(line)[:5]
        if not code and rows:
            code, change = rows[-1][0], rows[-1][1]
        rows.append((code, change, field, old, new))
    return rows


def test_the_shared_scenarios_are_found() -> None:
    assert BASIC.is_file(), f"{BASIC} is missing: the tests run with ../shared beside the repository"


# --- evaluate -----------------------------------------------------------------------------------------------------


def test_evaluate_prints_the_result_as_json() -> None:
    result = run("evaluate", str(BASIC))

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"rules", "lines", "not_billed", "in_progress"}
    assert printed["rules"] == "CMS PFS 2023"
    assert sorted((line["code"], line["units"], line["month"]) for line in printed["lines"]) == [
        ("99453", 1, "2023-03"),
        ("99454", 1, "2023-03"),
        ("99457", 1, "2023-03"),
    ]
    supply = next(line for line in printed["lines"] if line["code"] == "99454")
    assert supply["service_date"] == "2023-03-30"
    assert supply["period"] == {"start": "2023-03-01", "end": "2023-03-30"}
    assert supply["evidence"]["days_with_data"] == 18
    # 99458 needs 40 minutes; the file has 25.
    assert any(item["code"] == "99458" and "25 of the 40 minutes" in item["reason"] for item in printed["not_billed"])
    # The period from 2023-03-31 is still open on the window's last day.
    assert [item["period"]["start"] for item in printed["in_progress"] if item["program"] == "RPM"] == ["2023-03-31"]


def test_check_exits_0_on_a_passing_file() -> None:
    result = run("evaluate", str(BASIC), "--check")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    assert "3 line(s) as expected" in result.stdout


def test_check_exits_1_with_a_diff_when_expected_differs(tmp_path: Path) -> None:
    def expect_99458_not_99457(data: dict[str, Any]) -> None:
        for line in data["expected"]:
            if line["code"] == "99457":
                line["code"] = "99458"

    path = write(tmp_path, changed(expect_99458_not_99457))

    result = run("evaluate", str(path), "--check")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"FAIL: {path}",
        "  - expected, not billed: p1 99458 x1 in 2023-03",
        "  + billed, not expected: p1 99457 x1 in 2023-03",
    ]


def test_check_names_a_missing_line(tmp_path: Path) -> None:
    path = write(tmp_path, changed(lambda data: data["expected"].append(dict(data["expected"][0], code="99091"))))

    result = run("evaluate", str(path), "--check")

    assert result.exit_code == 1
    assert "  - expected, not billed: p1 99091 x1 in 2023-03" in result.stdout
    assert "billed, not expected" not in result.stdout


def test_bill_99091_option_moves_physician_time_to_99091(tmp_path: Path) -> None:
    def physician_time(data: dict[str, Any]) -> None:
        data["time"] = [dict(data["time"][0], minutes=35, performer="physician")]

    path = write(tmp_path, changed(physician_time))

    default = json.loads(run("evaluate", str(path)).stdout)
    chosen = json.loads(run("evaluate", str(path), "--bill-99091").stdout)

    assert sorted(line["code"] for line in default["lines"]) == ["99453", "99454", "99457"]
    assert sorted(line["code"] for line in chosen["lines"]) == ["99091", "99453", "99454"]


# --- bad input: exit 2 with the field named -----------------------------------------------------------------------


def _duplicate_enrollment_id(data: dict[str, Any]) -> None:
    data["enrollments"].append(dict(data["enrollments"][0], program="CCM", start="2024-01-01"))


def _overlapping_enrollment(data: dict[str, Any]) -> None:
    data["enrollments"].append(dict(data["enrollments"][0], id="e-p1-again", start="2023-03-15"))


BAD_FILES: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "missing window": (lambda data: data.pop("window"), "window: Field required"),
    "unknown time zone": (
        lambda data: data["patients"][0].update(timezone="Mars/Olympus"),
        "patients[0].timezone: unknown IANA time zone 'Mars/Olympus'",
    ),
    "reading without offset": (
        lambda data: data["readings"][0].update(at="2023-03-01T08:00:00"),
        "readings[0].at: needs a UTC offset or Z",
    ),
    "reading of unknown device": (
        lambda data: data["readings"][0].update(device="d-nowhere"),
        "readings[0].device: no device with id 'd-nowhere'",
    ),
    "enrollment of unknown patient": (
        lambda data: data["enrollments"][0].update(patient="p-nobody"),
        "enrollments[0].patient: no patient with id 'p-nobody'",
    ),
    "unknown program": (lambda data: data["enrollments"][0].update(program="XYZ"), "enrollments[0].program: "),
    "duplicate enrollment id": (_duplicate_enrollment_id, "enrollments[1].id: 'e-p1' is used twice"),
    "overlapping enrollments": (
        _overlapping_enrollment,
        "enrollments[1]: overlaps enrollment 'e-p1' of the same program",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_exits_2_naming_the_field(tmp_path: Path, case: str) -> None:
    change, message = BAD_FILES[case]
    path = write(tmp_path, changed(change))

    result = run("evaluate", str(path))

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: ")
    assert message in result.stderr


def test_unknown_program_lists_the_programs(tmp_path: Path) -> None:
    result = run("evaluate", str(write(tmp_path, changed(lambda data: data["enrollments"][0].update(program="XYZ")))))

    assert result.exit_code == 2
    assert "'RPM', 'RTM', 'CCM', 'PCM', 'CPM' or 'BHI'" in result.stderr


def test_invalid_json_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, '{"window": {"from": "2023-03-01",}')

    result = run("evaluate", str(path))

    assert result.exit_code == 2
    assert f"error: {path}: not valid JSON" in result.stderr
    assert "line 1, column 34" in result.stderr


def test_a_nonexistent_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "no-such-scenario.json"

    result = run("evaluate", str(path))

    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: cannot read: No such file or directory\n"


def test_check_on_a_file_without_expected_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, changed(lambda data: data.pop("expected")))

    assert run("evaluate", str(path)).exit_code == 0  # fine without --check
    result = run("evaluate", str(path), "--check")

    assert result.exit_code == 2
    assert "expected: missing" in result.stderr


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    def two_problems(data: dict[str, Any]) -> None:
        data["patients"][0]["timezone"] = "Mars/Olympus"
        data["readings"][3]["at"] = "2023-03-04T08:00:00"

    result = run("evaluate", str(write(tmp_path, changed(two_problems))))

    assert result.exit_code == 2
    assert "patients[0].timezone" in result.stderr
    assert "readings[3].at" in result.stderr


# --- rules show / diff --------------------------------------------------------------------------------------------


def test_rules_show_2026_lists_the_new_codes_and_day_ranges() -> None:
    result = run("rules", "show", "2026")

    assert result.exit_code == 0, result.output
    for code in ("99445", "99470", "98979", "98984"):
        assert code in result.stdout
    assert "2-15 days of 30" in cells(row_of(result.stdout, "99445"))
    assert "16-30 days of 30" in cells(row_of(result.stdout, "99454"))
    assert "2+ days of 30" in cells(row_of(result.stdout, "99453"))
    assert "CMS PFS 2026" in result.stdout


def test_rules_show_2019_has_no_99458() -> None:
    result = run("rules", "show", "2019")

    assert result.exit_code == 0, result.output
    assert "99457" in result.stdout
    assert "99458" not in result.stdout
    assert "99470" not in result.stdout


def test_rules_show_1999_exits_2() -> None:
    result = run("rules", "show", "1999")

    assert result.exit_code == 2
    assert "no rule set for 1999" in result.stderr
    assert result.stdout == ""


def test_rules_diff_2025_2026() -> None:
    result = run("rules", "diff", "2025", "2026")

    assert result.exit_code == 0, result.output
    rows = diff_rows(result.stdout)
    kinds = {code: change for code, change, *_ in rows}
    assert kinds["99445"] == "added"
    assert kinds["99470"] == "added"
    assert ("99453", "changed", "min_days", "16", "2") in rows
    assert ("98975", "changed", "min_days", "16", "2") in rows
    assert not [row for row in rows if row[0] == "99457" and row[2] == "minutes"]


def test_rules_diff_2020_2021() -> None:
    result = run("rules", "diff", "2020", "2021")

    assert result.exit_code == 0, result.output
    rows = diff_rows(result.stdout)
    kinds = {code: change for code, change, *_ in rows}
    assert kinds["G2058"] == "retired"
    assert kinds["99439"] == "added"
    assert "G2064" not in kinds  # PCM keeps G2064/G2065 through 2021


def test_rules_diff_with_an_unknown_year_exits_2() -> None:
    result = run("rules", "diff", "2025", "2031")

    assert result.exit_code == 2
    assert "no rule set for 2031" in result.stderr


# --- demo ---------------------------------------------------------------------------------------------------------


def test_demo_on_the_shared_folder_exits_0() -> None:
    result = run("demo", str(SHARED))

    assert result.exit_code == 0, result.output
    assert "as expected" in result.stdout
    assert "differs" not in result.stdout
    assert "99454x1 2023-03" in result.stdout


def test_demo_exits_1_when_a_scenario_differs(tmp_path: Path) -> None:
    write(tmp_path, changed(lambda data: data["expected"].pop()), name="one-line-short.json")

    result = run("demo", str(tmp_path))

    assert result.exit_code == 1
    assert "differs" in result.stdout
