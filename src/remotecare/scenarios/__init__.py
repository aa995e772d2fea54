"""Scenario files: one JSON document of facts (and optionally what should be billed)."""

from remotecare.scenarios.compare import ExpectedLine, compare_expected
from remotecare.scenarios.file import Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = ["ExpectedLine", "Scenario", "ScenarioError", "compare_expected", "load_scenario", "parse_scenario"]
