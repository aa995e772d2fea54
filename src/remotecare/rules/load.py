"""Load the yearly rule files and answer which rules are in force on a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from remotecare.rules.schema import CodeRule, RuleSet, Source


class RulesError(Exception):
    """A rule file is missing, unreadable or does not match the schema."""


# libyaml's parser when PyYAML was built with it: ten times faster on the rule files.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DatesAsStrings(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML 1.1 would turn 2026-01-01 into a date; the schema parses dates itself."""


_DatesAsStrings.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_DatesAsStrings)  # noqa: S506 - a SafeLoader subclass


class RuleBook:
    """Every year's rule set; `in_force(day)` judges a service by its date."""

    def __init__(self, rule_sets: Mapping[int, RuleSet], sources: Mapping[str, Source]) -> None:
        self._rule_sets = dict(sorted(rule_sets.items()))
        self.sources = dict(sources)
        self._in_force_cache: dict[tuple[int, int], RuleSet] = {}
        self._in_force_by_day: dict[dt.date, RuleSet | None] = {}  # asked for every period judged

    @property
    def years(self) -> list[int]:
        return list(self._rule_sets)

    def for_year(self, year: int) -> RuleSet:
        """The year's rule set as published, before any mid-year change."""
        try:
            return self._rule_sets[year]
        except KeyError:
            raise RulesError(f"no rule set for {year}; known years: {self.years}") from None

    def in_force(self, day: dt.date) -> RuleSet | None:
        """The rules that judge a service dated `day`, mid-year changes applied."""
        if day not in self._in_force_by_day:
            self._in_force_by_day[day] = self._in_force(day)
        return self._in_force_by_day[day]

    def _in_force(self, day: dt.date) -> RuleSet | None:
        base = self._rule_sets.get(day.year)
        if base is None:
            return None
        changes = [change for change in base.changes if change.effective <= day]
        key = (day.year, len(changes))
        if key not in self._in_force_cache:
            codes = dict(base.codes)
            for change in sorted(changes, key=lambda c: c.effective):
                merged = {**codes[change.code].model_dump(), **change.set}
                codes[change.code] = CodeRule.model_validate(merged)
            in_force = base.model_copy(update={"codes": codes})
            in_force.forget_indexes()  # a copy would otherwise keep the base's, built from the old codes
            self._in_force_cache[key] = in_force
        return self._in_force_cache[key]

    def national_payment(self, code: str, day: dt.date) -> Decimal | None:
        """What `code` pays for a service dated `day`, or None when the rules in force give no amount."""
        rule_set = self.in_force(day)
        rule = rule_set.code(code) if rule_set is not None else None
        return None if rule is None else rule.national_payment_usd

    def latest_payment(self, code: str) -> Decimal | None:
        """The most recent amount CMS published for `code` (a year's file may not have it yet)."""
        for year in reversed(self.years):
            rule = self.for_year(year).code(code)
            if rule is not None and rule.national_payment_usd is not None:
                return rule.national_payment_usd
        return None

    def nearest(self, day: dt.date) -> RuleSet:
        """The rules in force on `day`, or the closest year's when none is loaded."""
        rules = self.in_force(day)
        if rules is not None:
            return rules
        year = min(self._rule_sets, key=lambda known: abs(known - day.year))
        return self.for_year(year)


def _data_dir() -> Path:
    return Path(str(resources.files("remotecare.rules") / "data"))


def load_rule_set(path: Path) -> RuleSet:
    try:
        return RuleSet.model_validate(read_yaml(path))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path.name}: cannot read: {exc}") from exc
    except ValidationError as exc:
        raise RulesError(f"{path.name}: {exc}") from exc


def load_sources(path: Path) -> dict[str, Source]:
    raw = read_yaml(path)
    try:
        return {key: Source.model_validate(value) for key, value in raw.items()}
    except ValidationError as exc:
        raise RulesError(f"{path.name}: {exc}") from exc


def load_rules(directory: Path | None = None) -> RuleBook:
    """Read `<year>.yaml` files and `sources.yaml` from `directory` (default: shipped data)."""
    if directory is None:
        return _shipped_rules()
    rule_sets = {}
    for path in sorted(directory.glob("[0-9][0-9][0-9][0-9].yaml")):
        rule_set = load_rule_set(path)
        if str(rule_set.year) != path.stem:
            raise RulesError(f"{path.name}: says year {rule_set.year}")
        rule_sets[rule_set.year] = rule_set
    if not rule_sets:
        raise RulesError(f"no rule files in {directory}")
    return RuleBook(rule_sets, load_sources(directory / "sources.yaml"))


@cache
def _shipped_rules() -> RuleBook:
    return load_rules(_data_dir())
