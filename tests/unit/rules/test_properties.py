"""Properties of the evaluation that hold for any facts (hypothesis), plus the examples that bound them.

The facts are synthetic: one to three patients with random RPM/RTM/CCM/CPM/PCM/BHI
episodes, devices with start dates, readings on random days and random staff time,
over a 2-4 month window starting in a random year 2019-2026.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from remotecare.domain.facts import CareFacts, Window
from remotecare.domain.programs import Enrollment, Program, RtmFocus
from remotecare.domain.time_entries import Performer, TimeEntry
from remotecare.rules import ClaimLine, Evaluation, evaluate, load_rules
from remotecare.rules.schema import Role
from tests.builders import FactsBuilder, billed

D = dt.date
DAY = dt.timedelta(days=1)
RULES = load_rules()
ZONES = (
    "America/Chicago",
    "America/Los_Angeles",
    "America/New_York",
    "Pacific/Honolulu",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "UTC",
)
CONDITIONS = ("I10", "E11.9", "J44.9", "M54.50", "F32.9", "U07.1")
DEVICE_PROGRAMS = (Program.RPM, Program.RTM)
MONTHLY_PROGRAMS = (Program.CCM, Program.PCM, Program.CPM, Program.BHI)
TIME_ROLES = frozenset({Role.TREATMENT_TIME, Role.ADD_ON})
# When CCM bills a month, PCM is not billed that month (Part A rule 18): more CCM minutes may lower PCM.
MAY_YIELD = {Program.CCM: {Program.PCM}}

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class World:
    facts: CareFacts
    window: Window

    def evaluate(self, facts: CareFacts | None = None) -> Evaluation:
        return evaluate(facts or self.facts, rules=RULES, window=self.window)


def _first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@st.composite
def worlds(draw: st.DrawFn, *, allow_complex: bool = True, episodes_share_months: bool = True) -> World:
    """Random facts; `episodes_share_months=False` keeps a program's two episodes in separate months."""
    year = draw(st.integers(2019, 2026))
    window_start = D(year, draw(st.integers(1, 12)), draw(st.integers(1, 28)))
    window_end = window_start + dt.timedelta(days=draw(st.integers(59, 122)))
    span = (window_end - window_start).days
    builder = FactsBuilder()

    def day(offset: int) -> dt.date:
        return window_start + dt.timedelta(days=offset)

    for index in range(draw(st.integers(1, 3))):
        patient = f"p{index + 1}"
        zone = draw(st.sampled_from(ZONES))
        builder.patient(
            patient,
            timezone=zone,
            established=draw(st.sampled_from([True, True, True, False])),
            conditions=draw(st.lists(st.sampled_from(CONDITIONS), unique=True, max_size=3)),
        )
        programs = draw(st.lists(st.sampled_from(list(Program)), unique=True, min_size=1, max_size=3))
        if index == 0 and not set(programs) & set(DEVICE_PROGRAMS):
            programs.append(draw(st.sampled_from(DEVICE_PROGRAMS)))
        for program in programs:
            _draw_episodes(draw, builder, patient, program, day, allow_complex, episodes_share_months)
            if program in DEVICE_PROGRAMS:
                first_start = min(e.start for e in builder.enrollments if e.patient == patient and e.program == program)
                for number in range(draw(st.integers(1, 2))):
                    device = f"{patient}-{program}-d{number + 1}"
                    start = first_start + dt.timedelta(days=draw(st.integers(-10, 25)))
                    end = draw(st.one_of(st.none(), st.none(), st.integers(5, 90)))
                    builder.device(
                        program,
                        start,
                        id=device,
                        patient=patient,
                        medical=draw(st.sampled_from([True, True, True, False])),
                        end=None if end is None else start + dt.timedelta(days=end),
                    )
                    _draw_readings(draw, builder, patient, device, day, span, (start - window_start).days)
            for offset, minutes, performer, interactive in draw(
                st.lists(
                    st.tuples(
                        st.integers(-40, span + 5), st.integers(1, 70), st.sampled_from(list(Performer)), st.booleans()
                    ),
                    max_size=6,
                )
            ):
                builder.time(
                    day(offset), minutes, program=program, performer=performer, interactive=interactive, patient=patient
                )
        for offset, face_to_face in draw(st.lists(st.tuples(st.integers(-90, span), st.booleans()), max_size=2)):
            builder.visit(day(offset), face_to_face=face_to_face, patient=patient)
    return World(builder.build(), Window(window_start, window_end))


def _draw_episodes(
    draw: st.DrawFn,
    builder: FactsBuilder,
    patient: str,
    program: Program,
    day: Callable[[int], dt.date],
    allow_complex: bool,
    episodes_share_months: bool,
) -> None:
    start = day(draw(st.integers(-45, 50)))
    for episode in range(draw(st.integers(1, 2))):
        length = draw(st.one_of(st.none(), st.integers(10, 100)))
        end = None if length is None else start + dt.timedelta(days=length)
        consent_kind = draw(st.sampled_from(["day before"] * 7 + ["none", "late", "late"]))
        consent: dt.date | None | str = consent_kind
        if consent_kind == "none":
            consent = None
        elif consent_kind == "late":
            consent = start + dt.timedelta(days=draw(st.integers(0, 50)))
        builder.enroll(
            program,
            start,
            id=f"{patient}-{program}-e{episode + 1}",
            patient=patient,
            end=end,
            consent=consent,
            focus=draw(st.sampled_from([None, *RtmFocus])) if program == Program.RTM else None,
            complex=draw(st.booleans()) if program == Program.CCM and allow_complex else False,
        )
        if end is None:
            return
        gap_from = end + DAY if episodes_share_months else _first_of_next_month(end)
        start = gap_from + dt.timedelta(days=draw(st.integers(0, 40)))


def _draw_readings(
    draw: st.DrawFn,
    builder: FactsBuilder,
    patient: str,
    device: str,
    day: Callable[[int], dt.date],
    span: int,
    device_start: int,
) -> None:
    """Runs of near-daily readings from about the device's start (so thresholds are reached), plus scattered ones."""
    offsets: list[int] = []
    run_start = device_start + draw(st.integers(-5, 20))
    for _ in range(draw(st.integers(0, 2))):
        length = draw(st.integers(0, 40))
        offsets += [run_start + step for step in range(length) if draw(st.integers(0, 5)) > 0]
        run_start += length + draw(st.integers(0, 20))
    offsets += draw(st.lists(st.integers(-40, span + 5), max_size=8))
    manual = draw(st.sampled_from([False, False, False, True]))
    for offset in offsets:
        local_time = dt.time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 59])))
        builder.readings_on(
            [day(offset)], device=device, patient=patient, local_time=local_time, manual=manual and offset % 3 == 0
        )


def _shuffled(items: Sequence[T], rnd: random.Random) -> tuple[T, ...]:
    return tuple(rnd.sample(list(items), len(items)))


def _role(line: ClaimLine) -> Role | None:
    rule_set = RULES.in_force(line.service_date)
    assert rule_set is not None, f"{line.code} billed on {line.service_date} without rules in force"
    return rule_set.codes[line.code].role


def device_supply_lines(evaluation: Evaluation) -> Counter[tuple[str, str]]:
    return Counter((line.patient, line.enrollment) for line in evaluation.lines if _role(line) == Role.DEVICE_SUPPLY)


def time_units(evaluation: Evaluation) -> Counter[tuple[str, Program, str]]:
    units: Counter[tuple[str, Program, str]] = Counter()
    for line in evaluation.lines:
        if _role(line) in TIME_ROLES:
            units[(line.patient, line.program, line.month)] += line.units
    return units


# --- properties ---------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(world=worlds(), rnd=st.randoms(use_true_random=False))
def test_result_does_not_depend_on_the_order_of_the_facts(world: World, rnd: random.Random) -> None:
    facts = world.facts
    shuffled = CareFacts(
        patients=_shuffled(facts.patients, rnd),
        enrollments=_shuffled(facts.enrollments, rnd),
        devices=_shuffled(facts.devices, rnd),
        readings=_shuffled(facts.readings, rnd),
        time_entries=_shuffled(facts.time_entries, rnd),
        encounters=_shuffled(facts.encounters, rnd),
    )
    assert world.evaluate(shuffled).to_dict() == world.evaluate().to_dict()


@settings(max_examples=60, deadline=None)
@given(world=worlds(), data=st.data())
def test_adding_a_reading_never_lowers_the_device_supply_lines(world: World, data: st.DataObject) -> None:
    device = data.draw(st.sampled_from(world.facts.devices))
    patient = next(p for p in world.facts.patients if p.id == device.patient)
    offset = data.draw(st.integers(-35, (world.window.end - world.window.start).days))
    extra = FactsBuilder()
    extra.patients.append(patient)
    extra.readings_on(
        [world.window.start + dt.timedelta(days=offset)],
        device=device.id,
        patient=patient.id,
        local_time=dt.time(data.draw(st.integers(0, 23)), 30),
    )
    more = dataclasses.replace(world.facts, readings=world.facts.readings + tuple(extra.readings))

    before, after = device_supply_lines(world.evaluate()), device_supply_lines(world.evaluate(more))
    lowered = {key: (count, after[key]) for key, count in before.items() if after[key] < count}
    assert not lowered, f"adding {extra.readings[0]} lowered device-supply lines: {lowered}"


def _more_minutes(world: World, data: st.DataObject) -> tuple[CareFacts, Program]:
    """The facts with more minutes in one enrollment: a new entry, or an existing entry made longer.

    CCM and PCM only get clinical-staff minutes: physician minutes may switch the month to
    99491/99424 and lower the units (Part A rule 18; see the examples below).
    """
    facts = world.facts
    enrollment: Enrollment = data.draw(st.sampled_from(facts.enrollments))
    program = enrollment.program
    staff_only = program in (Program.CCM, Program.PCM)
    own = [
        index
        for index, entry in enumerate(facts.time_entries)
        if entry.patient == enrollment.patient
        and entry.program == program
        and (not staff_only or entry.performer == Performer.CLINICAL_STAFF)
    ]
    added = data.draw(st.integers(1, 45))
    lengthen = data.draw(st.booleans())
    if own and lengthen:
        index = data.draw(st.sampled_from(own))
        entries = list(facts.time_entries)
        entries[index] = dataclasses.replace(entries[index], minutes=entries[index].minutes + added)
        return dataclasses.replace(facts, time_entries=tuple(entries)), program
    last = min(enrollment.end or world.window.end, world.window.end)
    offset = data.draw(st.integers(0, max(0, (last - enrollment.start).days)))
    entry = TimeEntry(
        enrollment.patient,
        program,
        enrollment.start + dt.timedelta(days=offset),
        added,
        Performer.CLINICAL_STAFF if staff_only else data.draw(st.sampled_from(list(Performer))),
        data.draw(st.booleans()),
    )
    return dataclasses.replace(facts, time_entries=facts.time_entries + (entry,)), program


@settings(max_examples=60, deadline=None)
@given(world=worlds(allow_complex=False, episodes_share_months=False), data=st.data())
def test_adding_minutes_never_lowers_the_time_units_of_a_month(world: World, data: st.DataObject) -> None:
    more, program = _more_minutes(world, data)
    before, after = time_units(world.evaluate()), time_units(world.evaluate(more))
    lowered = {
        key: (units, after[key])
        for key, units in before.items()
        if after[key] < units and key[1] not in MAY_YIELD.get(program, set())
    }
    assert not lowered, f"more {program} minutes lowered the units of {lowered}"


@settings(max_examples=60, deadline=None)
@given(world=worlds())
def test_the_same_facts_give_the_same_result_twice(world: World) -> None:
    first = world.evaluate().to_dict()
    second = world.evaluate().to_dict()
    assert first == second
    assert evaluate(world.facts, rules=RULES, window=world.window) == world.evaluate()


@settings(max_examples=60, deadline=None)
@given(world=worlds())
def test_every_line_is_inside_the_window_whole_and_unique(world: World) -> None:
    evaluation = world.evaluate()
    enrollments = {e.id: e for e in world.facts.enrollments}
    seen: Counter[tuple[str, str, dt.date]] = Counter()
    supply_per_period: Counter[tuple[str, str, dt.date]] = Counter()
    primaries_per_month: Counter[tuple[str, Program, str]] = Counter()
    for line in evaluation.lines:
        assert world.window.start <= line.period.end <= world.window.end, line
        assert line.period.start <= line.period.end
        assert line.units >= 1, line
        seen[(line.patient, line.code, line.service_date)] += 1
        rule_set = RULES.in_force(line.service_date)
        assert rule_set is not None
        rule = rule_set.codes[line.code]
        assert not rule.retired and rule.program == line.program, line
        assert line.rules == rule_set.title
        if rule.units_per_period is not None:
            assert line.units <= rule.units_per_period, line
        consent = enrollments[line.enrollment].consent  # Part A rule 17
        assert consent is not None and consent <= line.service_date, line
        if rule.role == Role.DEVICE_SUPPLY:
            supply_per_period[(line.patient, line.enrollment, line.service_date)] += 1
        if rule.role == Role.TREATMENT_TIME:
            primaries_per_month[(line.patient, line.program, line.month)] += 1
    assert [key for key, count in seen.items() if count > 1] == []
    assert [key for key, count in supply_per_period.items() if count > 1] == []  # rule 9: never both
    assert [key for key, count in primaries_per_month.items() if count > 1] == []  # rules 14 and 18


@settings(max_examples=60, deadline=None)
@given(world=worlds())
def test_rpm_and_rtm_lines_never_overlap_the_earlier_episode(world: World) -> None:
    """Part A rule 16, restated: no line of the later RPM/RTM episode overlaps the earlier one's span."""
    evaluation = world.evaluate()
    order = list(Program)
    for line in evaluation.lines:
        if line.program not in DEVICE_PROGRAMS:
            continue
        mine = next(e for e in world.facts.enrollments if e.id == line.enrollment)
        for other in world.facts.enrollments:
            if other.patient != mine.patient or other.program == mine.program or other.program not in DEVICE_PROGRAMS:
                continue
            if (other.start, order.index(other.program)) < (mine.start, order.index(mine.program)):
                assert not other.overlaps(line.period.start, line.period.end), (line, other)


# --- examples that bound the properties ---------------------------------------------------------------------------


def test_a_sixteenth_day_turns_nothing_into_99454() -> None:
    """The device-supply measure above sees lines: 15 days bill nothing in 2025, 16 bill 99453 and 99454."""

    def world(days: int) -> Evaluation:
        builder = FactsBuilder().patient().enroll("RPM", D(2025, 3, 1)).device("RPM", D(2025, 3, 1))
        return builder.readings_on([D(2025, 3, 1) + DAY * n for n in range(days)]).evaluate(
            D(2025, 3, 1), D(2025, 4, 30)
        )

    assert device_supply_lines(world(15)) == Counter()
    assert device_supply_lines(world(16)) == Counter({("p1", "e1"): 1})
    assert billed(world(16)) == Counter({("99453", 1, "2025-03"): 1, ("99454", 1, "2025-03"): 1})


def test_thirty_physician_minutes_switch_ccm_to_99491_and_lower_the_units() -> None:
    """Part A rule 18: 30+ physician minutes give 99491, and that month's clinical-staff minutes are not billed."""

    def month(physician_minutes: int) -> Evaluation:
        builder = FactsBuilder().patient().enroll("CCM", D(2024, 1, 1))
        builder.time(D(2024, 1, 10), 45, program="CCM", performer="clinical_staff")
        builder.time(D(2024, 1, 20), physician_minutes, program="CCM", performer="physician")
        return builder.evaluate(D(2024, 1, 1), D(2024, 1, 31))

    # 29 physician + 45 staff = 74 minutes: 99490 and two 99439.
    assert billed(month(29)) == Counter({("99490", 1, "2024-01"): 1, ("99439", 2, "2024-01"): 1})
    assert time_units(month(29)) == Counter({("p1", Program.CCM, "2024-01"): 3})
    # One more physician minute: 99491 alone, the 45 staff minutes go unbilled.
    assert billed(month(30)) == Counter({("99491", 1, "2024-01"): 1})
    assert time_units(month(30)) == Counter({("p1", Program.CCM, "2024-01"): 1})


def test_thirty_physician_minutes_switch_pcm_to_99424_and_lower_the_units() -> None:
    """Part A rule 18: 30+ physician minutes give 99424 (+99425 per further 30 physician minutes)."""

    def month(physician_minutes: int) -> Evaluation:
        builder = FactsBuilder().patient(conditions=["I10"]).enroll("PCM", D(2024, 1, 1))
        builder.time(D(2024, 1, 10), 45, program="PCM", performer="clinical_staff")
        builder.time(D(2024, 1, 20), physician_minutes, program="PCM", performer="physician")
        return builder.evaluate(D(2024, 1, 1), D(2024, 1, 31))

    assert billed(month(29)) == Counter({("99426", 1, "2024-01"): 1, ("99427", 1, "2024-01"): 1})
    assert billed(month(30)) == Counter({("99424", 1, "2024-01"): 1})


def test_a_sixtieth_minute_switches_complex_ccm_to_99487_and_lowers_the_units() -> None:
    """Why the minutes property leaves complex CCM out: 59 minutes give 99490 + 99439, 60 give 99487 alone."""

    def month(minutes: int) -> Evaluation:
        builder = FactsBuilder().patient().enroll("CCM", D(2024, 1, 1), complex=True)
        builder.time(D(2024, 1, 10), minutes, program="CCM", performer="clinical_staff")
        return builder.evaluate(D(2024, 1, 1), D(2024, 1, 31))

    assert billed(month(59)) == Counter({("99490", 1, "2024-01"): 1, ("99439", 1, "2024-01"): 1})
    assert billed(month(60)) == Counter({("99487", 1, "2024-01"): 1})


def test_more_minutes_in_the_first_of_two_episodes_sharing_a_month_do_not_lower_the_units() -> None:
    def march(first_episode_minutes: int) -> Counter[tuple[str, Program, str]]:
        builder = FactsBuilder().patient()
        builder.enroll("CCM", D(2024, 1, 1), end=D(2024, 3, 10)).enroll("CCM", D(2024, 3, 20))
        builder.time(D(2024, 3, 5), first_episode_minutes, program="CCM", performer="clinical_staff")
        builder.time(D(2024, 3, 25), 70, program="CCM", performer="clinical_staff")
        return time_units(builder.evaluate(D(2024, 3, 1), D(2024, 3, 31)))

    # 15 minutes in the first episode: the second one bills 99490 + two 99439 for March.
    assert march(15) == Counter({("p1", Program.CCM, "2024-03"): 3})
    # 10 minutes more in the first episode: March falls to 99490 alone.
    assert march(25)[("p1", Program.CCM, "2024-03")] >= 3


def test_the_winning_episode_named_in_a_reason_does_not_depend_on_input_order() -> None:
    builder = FactsBuilder().patient()
    builder.enroll("RPM", D(2024, 1, 1), end=D(2024, 1, 5), id="r1").enroll("RPM", D(2024, 1, 6), id="r2")
    builder.enroll("RTM", D(2024, 1, 10), id="t1", focus="musculoskeletal")
    builder.time(D(2024, 1, 20), 30, program="RTM", interactive=True)
    facts = builder.build()
    window = Window(D(2024, 1, 1), D(2024, 2, 29))
    reversed_facts = dataclasses.replace(facts, enrollments=tuple(reversed(facts.enrollments)))

    def january_reasons(evaluation: Evaluation) -> set[str]:
        return {
            item.message for item in evaluation.not_billed if item.enrollment == "t1" and item.period.month == "2024-01"
        }

    as_given = january_reasons(evaluate(facts, rules=RULES, window=window))
    assert any("RPM enrollment r1" in message for message in as_given)
    assert january_reasons(evaluate(reversed_facts, rules=RULES, window=window)) == as_given
