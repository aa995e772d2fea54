"""Checks over rules/data/*.yaml themselves: complete, referenced, consistent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from remotecare.rules import RulesError, RuleSet, load_rules
from remotecare.rules.diff import diff_rule_sets
from remotecare.rules.load import load_rule_set
from remotecare.rules.schema import Role

BOOK = load_rules()
YEARS = list(range(2019, 2027))
DATA = Path(__file__).parents[2] / "src" / "remotecare" / "rules" / "data"

# When each code exists, from Part A rule 21 and the year summary in ../shared/cms-rules.md.
IN_FORCE = {
    "99453": (2019, 2026),
    "99454": (2019, 2026),
    "99457": (2019, 2026),
    "99091": (2019, 2026),
    "99458": (2020, 2026),
    "99445": (2026, 2026),
    "99470": (2026, 2026),
    "98975": (2022, 2026),
    "98976": (2022, 2026),
    "98977": (2022, 2026),
    "98980": (2022, 2026),
    "98981": (2022, 2026),
    "98978": (2023, 2026),
    "98979": (2026, 2026),
    "98984": (2026, 2026),
    "98985": (2026, 2026),
    "98986": (2026, 2026),
    "G3002": (2023, 2026),
    "G3003": (2023, 2026),
    "99490": (2019, 2026),
    "99491": (2019, 2026),
    "99487": (2019, 2026),
    "99489": (2019, 2026),
    "G2058": (2020, 2020),
    "99439": (2021, 2026),
    "99437": (2022, 2026),
    "G2064": (2020, 2021),
    "G2065": (2020, 2021),
    "99424": (2022, 2026),
    "99425": (2022, 2026),
    "99426": (2022, 2026),
    "99427": (2022, 2026),
    "99484": (2019, 2026),
}


def sets() -> list[RuleSet]:
    return [BOOK.for_year(year) for year in YEARS]


def test_there_is_one_rule_file_per_year_2019_through_2026() -> None:
    assert BOOK.years == YEARS
    assert sorted(path.stem for path in DATA.glob("[0-9]*.yaml")) == [str(year) for year in YEARS]


@pytest.mark.parametrize(("code", "span"), sorted(IN_FORCE.items()))
def test_each_code_is_in_force_exactly_in_its_years(code: str, span: tuple[int, int]) -> None:
    first, last = span
    for rule_set in sets():
        expected = first <= rule_set.year <= last
        assert (rule_set.code(code) is not None) == expected, f"{code} in {rule_set.year}"


def test_every_source_key_resolves() -> None:
    for rule_set in sets():
        keys = set(rule_set.sources)
        keys |= {key for rule in rule_set.codes.values() for key in rule.sources}
        keys |= {key for program in rule_set.programs.values() for key in program.sources}
        keys |= {key for change in rule_set.changes for key in change.sources}
        if rule_set.public_health_emergency:
            keys |= set(rule_set.public_health_emergency.sources)
        assert keys <= BOOK.sources.keys(), f"{rule_set.year}: unknown {keys - BOOK.sources.keys()}"
        assert all(
            BOOK.sources[key].href.startswith("https://") or BOOK.sources[key].href.startswith("http://")
            for key in keys
        )


def test_a_retired_code_stays_listed_as_retired() -> None:
    for earlier, later in zip(sets(), sets()[1:], strict=False):
        vanished = earlier.codes.keys() - later.codes.keys()
        assert not vanished, f"{sorted(vanished)} silently vanished in {later.year}"
    assert BOOK.for_year(2021).codes["G2058"].retired
    assert BOOK.for_year(2022).codes["G2064"].retired and BOOK.for_year(2022).codes["G2065"].retired


def test_program_time_code_lists_name_the_programs_own_primary_codes() -> None:
    for rule_set in sets():
        for name, program in rule_set.programs.items():
            listed = set(program.time_codes_in_order)
            primaries = {code for code, _ in rule_set.codes_of(name, Role.TREATMENT_TIME)}
            assert listed == primaries, f"{rule_set.year} {name}: {listed} vs {primaries}"


def test_add_ons_name_a_primary_of_their_program_in_force() -> None:
    for rule_set in sets():
        for code, rule in rule_set.codes.items():
            if rule.retired or rule.role != Role.ADD_ON:
                continue
            primary = rule_set.code(rule.add_on_to or "")
            assert primary is not None and primary.program == rule.program, f"{rule_set.year} {code}"
            assert primary.role == Role.TREATMENT_TIME


def test_exclusions_are_mutual_and_name_codes_in_force() -> None:
    for rule_set in sets():
        for code, rule in rule_set.codes.items():
            for other in rule.excludes:
                other_rule = rule_set.code(other)
                assert other_rule is not None, f"{rule_set.year} {code} excludes unknown {other}"
                assert code in other_rule.excludes, f"{rule_set.year}: {other} does not exclude {code}"


def test_device_supply_day_ranges_never_overlap_within_a_focus() -> None:
    for rule_set in sets():
        for program in rule_set.programs:
            ranges: dict[object, list[tuple[int, int]]] = {}
            for _, rule in rule_set.codes_of(program, Role.DEVICE_SUPPLY):
                ranges.setdefault(rule.focus, []).append((rule.min_days or 0, rule.max_days or 30))
            for spans in ranges.values():
                spans.sort()
                for (_, high), (low, _) in zip(spans, spans[1:], strict=False):
                    assert high < low, f"{rule_set.year} {program}: {spans}"


def test_payments_are_exact_cents_and_positive() -> None:
    for rule_set in sets():
        for code, rule in rule_set.codes.items():
            payment = rule.national_payment_usd
            if payment is not None:
                assert isinstance(payment, Decimal) and payment > 0, f"{rule_set.year} {code}"
                assert payment == payment.quantize(Decimal("0.01")), f"{rule_set.year} {code}"


def test_a_float_payment_is_refused(tmp_path: Path) -> None:
    text = (DATA / "2025.yaml").read_text().replace('national_payment_usd: "43.02"', "national_payment_usd: 43.02")
    (tmp_path / "2025.yaml").write_text(text)
    with pytest.raises(RulesError, match="quoted strings"):
        load_rule_set(tmp_path / "2025.yaml")


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    text = (DATA / "2025.yaml").read_text().replace("    min_days: 16\n", "    min_dayz: 16\n", 1)
    (tmp_path / "2025.yaml").write_text(text)
    with pytest.raises(RulesError, match="min_dayz"):
        load_rule_set(tmp_path / "2025.yaml")


def test_consecutive_years_differ_or_say_why_not() -> None:
    for earlier, later in zip(sets(), sets()[1:], strict=False):
        assert diff_rule_sets(earlier, later) or "unchanged" in later.summary, f"{earlier.year} -> {later.year}"


def test_low_confidence_values_from_part_a_are_parameters_marked_l() -> None:
    for setup in ("99453", "98975"):
        rule = BOOK.for_year(2026).codes[setup]
        assert rule.min_days == 2 and rule.confidence == "L"
    assert BOOK.for_year(2026).codes["98981"].units_per_period == 2
    assert BOOK.for_year(2023).changes[0].set == {"units_per_period": 3}


def test_every_code_in_force_says_who_supervises_and_what_it_is() -> None:
    for rule_set in sets():
        for code, rule in rule_set.codes.items():
            if not rule.retired:
                assert rule.supervision is not None and rule.label, f"{rule_set.year} {code}"
