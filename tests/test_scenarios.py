"""Every scenario file, shared and our own, bills exactly what it expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from remotecare.rules import evaluate, load_rules
from remotecare.scenarios import ExpectedLine, compare_expected, load_scenario

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "scenarios"
FOLDERS = [SHARED, HERE / "scenarios"]
FILES = sorted(path for folder in FOLDERS for path in folder.glob("*.json"))


def test_the_shared_examples_are_found() -> None:
    assert SHARED.is_dir(), f"{SHARED} is missing: CI runs with ../shared beside the repository"
    assert len(list(SHARED.glob("*.json"))) >= 11


def test_we_keep_at_least_twenty_scenarios_of_our_own() -> None:
    assert len(list((HERE / "scenarios").glob("*.json"))) >= 20


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_scenario_bills_what_it_expects(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.expected is not None, f"{path.name} has no expected lines"
    result = evaluate(scenario.facts(), rules=load_rules(), window=scenario.evaluation_window)
    expected = [ExpectedLine(e.patient, e.code, e.units, e.month) for e in scenario.expected]
    missing, unexpected = compare_expected(result.lines, expected)
    assert (missing, unexpected) == ([], []), f"missing {missing}, unexpected {unexpected}"
