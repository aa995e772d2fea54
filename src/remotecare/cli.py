"""The `remotecare` command line: evaluate scenario files and show the rules."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from remotecare.rules import PracticeSettings, RulesError, evaluate, load_rules
from remotecare.rules.describe import conditions_text, performers_text, threshold_text, units_text
from remotecare.rules.diff import diff_rule_sets
from remotecare.scenarios import ExpectedLine, ScenarioError, compare_expected, load_scenario

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from remotecare.services.csv_import import ImportReport, RejectedRow

app = typer.Typer(
    help="RemoteCare: remote care management and exact CMS billing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Show the CMS rule sets RemoteCare bills by.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="People who log in.", no_args_is_help=True)
export_app = typer.Typer(help="Approved claim lines out: 837P, superbill CSV, FHIR Claims.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(users_app, name="users")
import_app = typer.Typer(help="Bring records in from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")
care_teams_app = typer.Typer(help="Care teams that work the patients of several practices.", no_args_is_help=True)
app.add_typer(care_teams_app, name="care-teams")

BAD_INPUT = 2


def _console() -> Console:
    # Tables stay readable when piped: no wrapping at 80 columns.
    return Console(width=None if sys.stdout.isatty() else 200)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(BAD_INPUT)


@app.command("evaluate")
def evaluate_command(
    scenario: Annotated[Path, typer.Argument(help="A scenario JSON file (see scenario-format.md).")],
    check: Annotated[bool, typer.Option("--check", help="Exit 0 if the file's `expected` matches, else 1.")] = False,
    bill_99091: Annotated[
        bool, typer.Option("--bill-99091", help="Practice setting: bill RPM physician time as 99091.")
    ] = False,
) -> None:
    """Evaluate a scenario file and print the billing result as JSON."""
    try:
        loaded = load_scenario(scenario)
        result = evaluate(
            loaded.facts(),
            rules=load_rules(),
            window=loaded.evaluation_window,
            settings=PracticeSettings(bill_99091=bill_99091),
        )
    except (ScenarioError, RulesError) as exc:
        raise _fail(str(exc)) from exc
    if not check:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    if loaded.expected is None:
        raise _fail(f"{scenario}: expected: missing; --check needs the lines the file expects")
    expected = [ExpectedLine(e.patient, e.code, e.units, e.month) for e in loaded.expected]
    missing, unexpected = compare_expected(result.lines, expected)
    if not missing and not unexpected:
        typer.echo(f"ok: {scenario}: {len(result.lines)} line(s) as expected")
        return
    typer.echo(f"FAIL: {scenario}")
    for line in missing:
        typer.echo(f"  - expected, not billed: {line}")
    for line in unexpected:
        typer.echo(f"  + billed, not expected: {line}")
    raise typer.Exit(1)


@app.command("demo")
def demo_command(
    directories: Annotated[
        list[Path] | None, typer.Argument(help="Folders of scenario files (default: ../shared/scenarios).")
    ] = None,
    patients: Annotated[
        int | None,
        typer.Option("--patients", min=1, help="Instead: add this many synthetic patients to a demo practice."),
    ] = None,
    practice_name: Annotated[str, typer.Option("--practice", help="With --patients.")] = "Demo Family Medicine",
    month: Annotated[
        dt.datetime | None,
        typer.Option("--month", formats=["%Y-%m"], help="With --patients: the month of activity (default: last)."),
    ] = None,
) -> None:
    """Evaluate every scenario in the folders and show what each one bills; or, with --patients, make a
    synthetic practice in the database (REMOTECARE_DATABASE_URL)."""
    if patients is not None:
        _demo_practice(patients, practice_name, month.date() if month else None)
        return
    folders = directories or [Path("../shared/scenarios")]
    table = Table(title="RemoteCare billing: example scenarios")
    for column in ("scenario", "rules", "billed", "check"):
        table.add_column(column)
    failures = 0
    for path in sorted(p for folder in folders for p in folder.glob("*.json")):
        try:
            loaded = load_scenario(path)
            result = evaluate(loaded.facts(), rules=load_rules(), window=loaded.evaluation_window)
        except (ScenarioError, RulesError) as exc:
            raise _fail(str(exc)) from exc
        billed = ", ".join(f"{line.code}x{line.units} {line.month}" for line in result.lines) or "nothing"
        verdict = "-"
        if loaded.expected is not None:
            expected = [ExpectedLine(e.patient, e.code, e.units, e.month) for e in loaded.expected]
            ok = compare_expected(result.lines, expected) == ([], [])
            failures += not ok
            verdict = "[green]as expected[/]" if ok else "[red]differs[/]"
        table.add_row(loaded.description or path.name, result.rules, billed, verdict)
    _console().print(table)
    if failures:
        raise typer.Exit(1)


def _demo_practice(patients: int, practice_name: str, month: dt.date | None) -> None:
    from rich.progress import Progress

    from remotecare.config import get_settings
    from remotecare.services.demo_practice import demo_practice, generate
    from remotecare.store.base import utc_now
    from remotecare.store.session import make_engine

    month = month or (utc_now().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    engine = make_engine(get_settings().database_url)
    stderr = Console(stderr=True)
    try:
        practice_id = demo_practice(engine, practice_name)
        with Progress(console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
            task = progress.add_task("synthetic patients", total=patients)
            summary = generate(
                engine,
                practice_id,
                patients,
                month,
                through=utc_now().date() - dt.timedelta(days=1),  # up to yesterday: the worklist has open periods
                on_progress=lambda done: progress.update(task, completed=done),
            )
    finally:
        engine.dispose()
    typer.echo(
        f"practice {practice_id} ({practice_name}): {summary.patients:,} synthetic patients, "
        f"{summary.readings:,} readings and {summary.time_entries:,} time entries, {month:%B %Y} "
        "and since, up to yesterday"
    )


@rules_app.command("show")
def rules_show(year: Annotated[int, typer.Argument(help="Calendar year, e.g. 2026.")]) -> None:
    """Print one year's rules as a table."""
    try:
        rule_set = load_rules().for_year(year)
    except RulesError as exc:
        raise _fail(str(exc)) from exc
    table = Table(title=f"{rule_set.title} ({rule_set.effective} to {rule_set.expires}): {rule_set.summary}")
    for column in (
        "code",
        "program",
        "role",
        "period",
        "threshold",
        "counts",
        "units",
        "also needs",
        "superv.",
        "pays",
    ):
        table.add_column(column, overflow="fold")
    for code, rule in rule_set.codes.items():
        table.add_row(
            code,
            str(rule.program),
            "retired" if rule.retired else str(rule.role),
            str(rule.period or "-"),
            threshold_text(rule),
            performers_text(rule),
            units_text(rule),
            conditions_text(rule),
            str(rule.supervision or "-"),
            "-" if rule.retired else rule.payment_text,
        )
    console = _console()
    console.print(table)
    programs = Table(title="Programs")
    for column in ("program", "established patient", "conditions", "never with", "yields month to", "time codes"):
        programs.add_column(column)
    for name, program in rule_set.programs.items():
        programs.add_row(
            f"{name} ({program.label})",
            "required" if program.requires_established_patient else "-",
            f"{program.min_conditions}+" if program.min_conditions else "-",
            ", ".join(program.exclusive_with) or "-",
            ", ".join(program.yields_month_to) or "-",
            " then ".join(program.time_codes_in_order) or "-",
        )
    console.print(programs)
    for change in rule_set.changes:
        console.print(f"From {change.effective}: {change.code} {change.set}")


@rules_app.command("diff")
def rules_diff(
    old: Annotated[int, typer.Argument(help="Earlier year.")],
    new: Annotated[int, typer.Argument(help="Later year.")],
) -> None:
    """Print what changed from one year's rules to another's."""
    try:
        book = load_rules()
        changes = diff_rule_sets(book.for_year(old), book.for_year(new))
    except RulesError as exc:
        raise _fail(str(exc)) from exc
    table = Table(title=f"CMS PFS {old} -> {new}: {len(changes)} change(s)")
    for column in ("code", "change", "field", str(old), str(new)):
        table.add_column(column, overflow="fold")
    for change in changes:
        if not change.fields:
            table.add_row(change.subject, change.kind, "", "", change.label)
        for index, field in enumerate(change.fields):
            table.add_row(
                change.subject if index == 0 else "",
                change.kind if index == 0 else "",
                field.field,
                _cell(field.old),
                _cell(field.new),
            )
    _console().print(table)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database (REMOTECARE_DATABASE_URL, default: a SQLite file) up to date."""
    from remotecare.config import get_settings
    from remotecare.store.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"database at {revision}: {_redact(url)}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login e-mail.")],
    practice: Annotated[str | None, typer.Option(help="Practice name; created if new.")] = None,
    care_team: Annotated[
        str | None, typer.Option("--care-team", help="Instead: a care team's name (created if new).")
    ] = None,
    role: Annotated[str, typer.Option(help="admin, physician, clinical_staff, biller or integrator.")] = "admin",
    full_name: Annotated[str, typer.Option(help="Name shown in the audit trail.")] = "Administrator",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, envvar="REMOTECARE_NEW_PASSWORD")
    ] = "",
) -> None:
    """Create a user (the first admin of a practice, typically)."""
    from remotecare.config import get_settings
    from remotecare.services.accounts import AccountError, create_user
    from remotecare.store.models import Role
    from remotecare.store.session import make_engine, make_session_factory, unit_of_work

    try:
        chosen = Role(role)
    except ValueError:
        raise _fail(f"role: one of {', '.join(r.value for r in Role)}") from None
    engine = make_engine(get_settings().database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            user = create_user(
                session,
                email=email,
                password=password,
                role=chosen,
                full_name=full_name,
                practice_name=practice,
                care_team_name=care_team,
            )
            where = f"practice {user.practice_id}" if user.practice_id else f"care team {user.care_team_id}"
            typer.echo(f"created {user.role} {user.email} (user {user.id}) in {where}")
    except AccountError as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()


@care_teams_app.command("grant")
def care_teams_grant(
    practice: Annotated[str, typer.Option(help="The granting practice's name.")],
    team: Annotated[str, typer.Option("--team", help="The care team's name (created if new).")],
    programs: Annotated[str, typer.Option(help="Comma-separated programs, e.g. RPM,CCM.")],
) -> None:
    """A practice grants a care team access to its patients in some programs (what its admin does with
    POST /care-team-grants)."""
    from sqlalchemy import select

    from remotecare.config import get_settings
    from remotecare.domain.programs import Program
    from remotecare.services.accounts import care_team
    from remotecare.services.care_teams import GrantRefusal, grant_access
    from remotecare.store.models import Practice
    from remotecare.store.session import make_engine, make_session_factory, unit_of_work

    try:
        chosen = [Program(name.strip().upper()) for name in programs.split(",") if name.strip()]
    except ValueError:
        raise _fail(f"programs: each one of {', '.join(p.value for p in Program)}") from None
    engine = make_engine(get_settings().database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            practice_id = session.scalar(select(Practice.id).where(Practice.name == practice))
            if practice_id is None:
                raise _fail(f"practice: no practice named {practice!r}")
            grant = grant_access(session, practice_id, care_team(session, team).id, chosen, None)
            typer.echo(f"grant {grant.id}: {team} works {', '.join(grant.programs)} at {practice}")
    except GrantRefusal as refusal:
        raise _fail(f"{refusal.field}: {refusal.message}") from refusal
    finally:
        engine.dispose()


@import_app.command("readings")
def import_readings_command(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv",
            help="Columns: patient, type, at; device, manual, external_id if wanted; values (systolic, kg, ...).",
        ),
    ],
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Also write the rejected rows (line, field, message) to this CSV.")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per transaction.")] = 1000,
) -> None:
    """Import readings from a CSV file; a re-run stores nothing twice. Exit 1 if some rows were refused."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from remotecare.config import get_settings
    from remotecare.ingest.csv_rows import CsvError
    from remotecare.services.csv_import import ImportRefused, import_readings
    from remotecare.store.base import utc_now
    from remotecare.store.session import make_engine, make_session_factory

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    engine = make_engine(get_settings().database_url)
    stderr = Console(stderr=True)
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,  # piped or logged: no bar, and no stray blank line where it was
    )
    try:
        with progress:
            task = progress.add_task("rows", total=None)
            report = import_readings(
                make_session_factory(engine),
                practice,
                file,
                now=utc_now(),
                batch_size=batch_size,
                on_progress=lambda rows: progress.update(task, completed=rows),
            )
    except CsvError as exc:
        raise _fail(f"{file}: {exc}") from exc
    except ImportRefused as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()
    _print_import_report(file, report)
    if rejects is not None:
        _write_rejects(rejects, report.rejected)
    if not report.complete:
        raise typer.Exit(1)


def _print_import_report(file: Path, report: ImportReport) -> None:
    held = f", {report.held} held" if report.held else ""
    typer.echo(f"imported {file}: {report.stored} stored, {report.duplicate} duplicate, {report.refused} refused{held}")
    if not report.rejected:
        return
    table = Table(title=f"Rejected rows ({len(report.rejected)})")
    for column in ("line", "field", "reason"):
        table.add_column(column, overflow="fold")
    for row in report.rejected:
        # Text, not markup: a reason quotes what the file said, brackets and all.
        table.add_row(str(row.line), Text(row.field), Text(row.message))
    _console().print(table)


def _write_rejects(path: Path, rejected: list[RejectedRow]) -> None:
    rows = [(row.line, row.field, row.message) for row in rejected]
    try:
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(("line", "field", "message"))
            writer.writerows(rows)
    except OSError as exc:
        raise _fail(f"--rejects: {path}: {exc.strerror or exc}") from exc


@app.command("bill")
def bill_command(
    through: Annotated[
        dt.datetime, typer.Option("--through", formats=["%Y-%m-%d"], help="Bill periods that end on or before it.")
    ],
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    since: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="Earliest period end (default: two months back)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Processes that judge slices of patients (default: one per core)."),
    ] = None,
) -> None:
    """Run billing: propose a claim line for every service the rules allow; a re-run doubles nothing."""
    from sqlalchemy import select

    from remotecare.config import get_settings
    from remotecare.domain.facts import Window
    from remotecare.services.audit_trail import command_event
    from remotecare.services.billing_pool import default_workers
    from remotecare.services.billing_run import default_window, run_billing
    from remotecare.store.models import Practice
    from remotecare.store.session import make_engine, make_session_factory, unit_of_work

    window = default_window(through.date()) if since is None else Window(since.date(), through.date())
    if window.start > window.end:
        raise _fail("--from: is after --through")
    engine = make_engine(get_settings().database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            if session.scalar(select(Practice.id).where(Practice.id == practice)) is None:
                raise _fail(f"--practice: no practice {practice}")
            report = run_billing(session, practice, window, workers=workers or default_workers())
            detail = {"from": window.start.isoformat(), "through": window.end.isoformat(), **report.counts()}
            session.add(command_event(practice, "bill", "bill", "claim_line", detail))
    finally:
        engine.dispose()
    counts = report.counts()
    typer.echo(
        f"billed {window.start} to {window.end}: " + ", ".join(f"{count} {name}" for name, count in counts.items())
    )
    table = Table("code", "lines", "units")
    for code, (lines, units) in sorted(report.code_totals.items()):
        table.add_row(code, str(lines), str(units))
    _console().print(table)


@app.command("worklist")
def worklist_command(
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    as_of: Annotated[
        dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Default: today (UTC).")
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Only this forecast status (repeat for more): at_risk, short_code_only, on_track, missed, met.",
        ),
    ] = None,
    program: Annotated[str | None, typer.Option("--program", help="Only this program, e.g. RPM.")] = None,
    care_manager: Annotated[
        int | None, typer.Option("--care-manager", help="Only the patients of this care manager (a user's id).")
    ] = None,
) -> None:
    """What each patient still needs before their open periods close: what is about to be lost first."""
    from remotecare.config import get_settings
    from remotecare.domain.programs import Program
    from remotecare.rules.forecast import Status
    from remotecare.services.worklist import worklist
    from remotecare.store.base import utc_now
    from remotecare.store.session import make_engine, make_session_factory

    try:
        statuses = None if not status else {Status(value) for value in status}
    except ValueError as exc:
        raise _fail(f"--status: one of {', '.join(Status)}") from exc
    try:
        chosen = None if program is None else Program(program.upper())
    except ValueError as exc:
        raise _fail(f"--program: one of {', '.join(Program)}") from exc
    day = as_of.date() if as_of else utc_now().date()
    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            if care_manager is not None and not _is_user_of(session, practice, care_manager):
                raise _fail(f"--care-manager: no user {care_manager} in practice {practice}")
            items = worklist(session, practice, day, statuses=statuses, program=chosen, care_manager_id=care_manager)
    finally:
        engine.dispose()
    table = Table("patient", "program", "period", "so far", "next", "days left", "at risk", "status", "by")
    for item in items:
        progress = item.progress
        so_far = (
            f"{progress['days_with_data']} days"
            if progress["kind"] == "days_with_data"
            else f"{progress['minutes']} min" + (", call done" if progress.get("interactive_contact") else "")
        )
        target = progress.get("next_threshold") or {}
        needed = f"{target.get('days', target.get('minutes'))} for {target['code']}" if target else "-"
        table.add_row(
            item.patient_name,
            item.program,
            f"{item.period_start} to {item.period_end}",
            so_far,
            needed,
            str(item.days_left),
            "-" if item.payment_at_risk_usd is None else f"${item.payment_at_risk_usd}",
            _cell(item.status),
            _cell(item.deadline),
        )
    _console().print(table)


@app.command("evidence")
def evidence_command(
    line_id: Annotated[int, typer.Argument(help="The claim line's id.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the page (default: evidence-ID.html).")
    ] = None,
) -> None:
    """Write the audit packet of a claim line: the rule, the data days, the minutes log, consent and visits."""
    from remotecare.config import get_settings
    from remotecare.reports.evidence_packet import EvidenceNotFound, evidence_packet
    from remotecare.store.base import utc_now
    from remotecare.store.session import make_engine, make_session_factory

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            page = evidence_packet(session, line_id, now=utc_now())
    except EvidenceNotFound as exc:
        raise _fail(f"LINE_ID: {exc}") from exc
    finally:
        engine.dispose()
    target = out or Path(f"evidence-{line_id}.html")
    target.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {target}")


@app.command("revenue")
def revenue_command(
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    since: Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First date of service.")],
    until: Annotated[dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last date of service.")],
) -> None:
    """Revenue by month, program and code, from the claim lines that are not void."""
    from remotecare.config import get_settings
    from remotecare.services.revenue import revenue
    from remotecare.store.session import make_engine, make_session_factory

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = revenue(session, practice, since.date(), until.date())
    finally:
        engine.dispose()
    table = Table("month", "program", "code", "lines", "units", "amount", "of which proposed (units)")
    for row in rows:
        amount = "unknown" if row.amount_usd is None else f"${row.amount_usd:,.2f}"
        table.add_row(row.month, row.program, row.code, str(row.lines), str(row.units), amount, str(row.proposed_units))
    _console().print(table)


@app.command("audit")
def audit_command(
    month: Annotated[str, typer.Option("--month", help="The month audited, YYYY-MM.")],
    practice: Annotated[
        int | None, typer.Option("--practice", help="The practice's record id (default: the only practice).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text (a table), csv or html (a printable page).")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of the screen.")] = None,
) -> None:
    """The compliance self-audit: one section per OIG pattern and per extra check, each finding naming its
    patients, claim lines and source."""
    from sqlalchemy import select

    from remotecare.config import get_settings
    from remotecare.domain.self_audit import AuditMonth
    from remotecare.reports.self_audit import measure_text, report_csv, report_html
    from remotecare.services.audit_trail import command_event
    from remotecare.services.self_audit import self_audit
    from remotecare.store.base import utc_now
    from remotecare.store.models import Practice
    from remotecare.store.session import make_engine, make_session_factory, unit_of_work

    if fmt not in ("text", "csv", "html"):
        raise _fail("--format: one of text, csv, html")
    try:
        audited = AuditMonth.parse(month)
    except ValueError as exc:
        raise _fail(f"--month: {exc}") from exc
    engine = make_engine(get_settings().database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            ids = list(session.scalars(select(Practice.id).order_by(Practice.id).limit(2)))
            if practice is None and len(ids) != 1:
                raise _fail("--practice: needed when the database holds more or fewer than one practice")
            practice_id = practice if practice is not None else ids[0]
            if session.get(Practice, practice_id) is None:
                raise _fail(f"--practice: no practice {practice_id}")
            report = self_audit(session, practice_id, audited)
            detail = {"month": month, "format": fmt, "patient_ids": report.patient_ids}
            session.add(command_event(practice_id, "audit", "export", "self_audit", detail))
    finally:
        engine.dispose()
    if fmt != "text":
        text = report_csv(report) if fmt == "csv" else report_html(report, now=utc_now())
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out}")
        return
    console = Console(file=out.open("w", encoding="utf-8"), width=200) if out else _console()
    console.print(f"Compliance self-audit of {report.practice_name}, {report.month}")
    for number, section in enumerate(report.sections, 1):
        table = Table("patient", "claim lines", "time entries", "finding", title=f"{number}. {section.check.title}")
        table.caption = f"Source: {section.check.source.citation}"
        for finding in section.findings:
            patient = "the practice" if finding.patient is None else f"{finding.patient.name} ({finding.patient.id})"
            lines, entries = (
                ", ".join(map(str, ids)) or "-" for ids in (finding.claim_line_ids, finding.time_entry_ids)
            )
            table.add_row(patient, lines, entries, finding.detail)
        if section.none_found:
            table.add_row("-", "-", "-", "None found.")
        console.print(table)
        if section.measure is not None:
            console.print(measure_text(section))
    if out is not None:
        console.file.close()
        typer.echo(f"wrote {out}")


@export_app.command("claims")
def export_claims_command(
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    fmt: Annotated[str, typer.Option("--format", help="x12 (837P 005010X222A1), csv (superbill) or fhir (Claims).")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
) -> None:
    """Write every approved claim line and mark it exported; nothing is marked if anything is missing."""
    from remotecare.config import get_settings
    from remotecare.exports.claims import ExportError
    from remotecare.services.audit_trail import command_event
    from remotecare.services.claim_export import FORMATS, export_approved
    from remotecare.store.base import utc_now
    from remotecare.store.session import make_engine, make_session_factory, unit_of_work

    if fmt not in FORMATS:
        raise _fail(f"--format: one of {', '.join(FORMATS)}")
    engine = make_engine(get_settings().database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            text, ids = export_approved(session, practice, fmt, now=utc_now())
            out.write_text(text, encoding="utf-8")
            detail = {"format": fmt, "file": out.name, "line_ids": ids}
            session.add(command_event(practice, "export claims", "export", "claim_line", detail))
    except ExportError as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()
    typer.echo(f"exported {len(ids)} claim line(s) to {out}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Run the HTTP API (migrating the database first)."""
    import uvicorn

    from remotecare.api.app import create_app
    from remotecare.config import get_settings
    from remotecare.store.migrate import upgrade

    upgrade(get_settings().database_url)
    uvicorn.run(create_app(), host=host, port=port)


@app.command("outreach")
def outreach_command(
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    as_of: Annotated[
        dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Default: today (UTC).")
    ] = None,
    quiet_days: Annotated[int, typer.Option("--quiet-days", min=1, help="Quiet after this many days.")] = 3,
    margin: Annotated[int, typer.Option("--margin", min=0, help="At risk with this many spare days or fewer.")] = 2,
) -> None:
    """Patients to call about missing readings: at risk of missing 16 days first, then the quietest."""
    from remotecare.config import get_settings
    from remotecare.services.outreach import outreach_list
    from remotecare.store.base import utc_now
    from remotecare.store.session import make_engine, make_session_factory

    day = as_of.date() if as_of else utc_now().date()
    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            items = outreach_list(session, practice, day, quiet_days=quiet_days, margin=margin)
    finally:
        engine.dispose()
    table = Table(
        "patient", "program", "period", "last reading", "days", "needed", "spare", "short code", "reading by", "reasons"
    )
    for item in items:
        last = "never" if item.last_reading is None else f"{item.last_reading} ({item.days_since_last_reading}d ago)"
        short = "-"
        if item.short_code is not None:
            short = f"{item.short_code}: {'reachable' if item.short_code_reachable else 'out of reach'}"
        table.add_row(
            item.patient_name,
            item.program,
            f"{item.period_start} to {item.period_end}",
            last,
            f"{item.days_with_data} of {_cell(item.full_days)}",
            _cell(item.days_needed),
            _cell(item.spare_days),
            short,
            _cell(item.next_reading_by),
            ", ".join(item.reasons),
        )
    _console().print(table)


outbox_app = typer.Typer(help="The reminder outbox.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("send")
def outbox_send_command(
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Where file messages go (default: the outbox_path setting, or the data folder)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Send at most this many.")] = 100,
) -> None:
    """Send queued reminders: file messages to a JSON-lines file, console messages here. SMS and email wait
    for a sender of their own."""
    from sqlalchemy import select

    from remotecare.config import get_settings
    from remotecare.notify.senders import default_outbox_path, local_senders
    from remotecare.services.audit_trail import command_event
    from remotecare.services.outbox import dispatch
    from remotecare.store.models import Practice
    from remotecare.store.session import make_engine, make_session_factory

    settings = get_settings()
    path = file or default_outbox_path(settings.outbox_path)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            if session.scalar(select(Practice.id).where(Practice.id == practice)) is None:
                raise _fail(f"--practice: no practice {practice}")
            report = dispatch(session, practice, local_senders(path, sys.stdout), limit=limit)
            detail = {"sent": report.sent, "failed": report.failed, "deferred": report.deferred}
            session.add(command_event(practice, "outbox send", "dispatch", "outbox_message", detail))
            session.commit()
    finally:
        engine.dispose()
    counts = report.counts()
    typer.echo(", ".join(f"{count} {name}" for name, count in counts.items()) + f" (file messages in {path})")
    for channel, count in sorted(report.without_sender.items()):
        typer.echo(f"{count} {channel} message(s) left queued: no {channel} sender set up")


sms_app = typer.Typer(help="Daily check-ins by text message.", no_args_is_help=True)
app.add_typer(sms_app, name="sms")


@sms_app.command("prompt")
def sms_prompt_command(
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
) -> None:
    """Queue today's pain check-in texts that are due now (past each patient's usual time in their zone, once a
    day, never after STOP or in quiet hours); `remotecare outbox send` or POST /outbox/dispatch sends them."""
    from sqlalchemy import select

    from remotecare.config import get_settings
    from remotecare.services.audit_trail import command_event
    from remotecare.services.sms_checkins import PROMPT_REASON, prompt
    from remotecare.store.base import utc_now
    from remotecare.store.models import Practice
    from remotecare.store.session import make_engine, make_session_factory

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            if session.scalar(select(Practice.id).where(Practice.id == practice)) is None:
                raise _fail(f"--practice: no practice {practice}")
            report = prompt(session, practice, utc_now())
            detail = {"ids": report.queued, "patient_ids": report.patient_ids, "reason": PROMPT_REASON}
            session.add(command_event(practice, "sms prompt", "create", "outbox_message", detail))
            session.commit()
    finally:
        engine.dispose()
    typer.echo(
        f"{len(report.queued)} queued, {report.not_yet} not yet due, {report.already} done today, "
        f"{report.quiet} in quiet hours, {report.not_asked} without the pain question"
    )


@sms_app.command("connect")
def sms_connect_command(
    practice: Annotated[int, typer.Option("--practice", help="The practice's record id.")],
    name: Annotated[str, typer.Option("--name", help="A label, e.g. the texting number.")],
    auth_token: Annotated[
        str,
        typer.Option(
            "--auth-token",
            envvar="REMOTECARE_SMS_AUTH_TOKEN",
            prompt=True,
            hide_input=True,
            help="The provider's auth token its webhooks are signed with (asked for when not in the environment).",
        ),
    ],
) -> None:
    """Set up the SMS provider's inbound webhook for a practice: prints the path to give the provider."""
    from sqlalchemy import select

    from remotecare.config import get_settings
    from remotecare.services.audit_trail import command_event
    from remotecare.store.models import Integration, Practice
    from remotecare.store.session import make_engine, make_session_factory

    if not auth_token.strip() or len(auth_token) > 128:
        raise _fail("--auth-token: 1 to 128 characters")
    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            if session.scalar(select(Practice.id).where(Practice.id == practice)) is None:
                raise _fail(f"--practice: no practice {practice}")
            row = Integration(practice_id=practice, vendor="sms", name=name[:120], secret=auth_token.strip())
            session.add(row)
            session.flush()
            session.add(command_event(practice, "sms connect", "create", "integration", {"id": row.id}))
            session.commit()
            integration_id = row.id
    finally:
        engine.dispose()
    typer.echo(f"integration {integration_id}: its webhook is POST /sms/inbound/{integration_id}")


def _redact(url: str) -> str:
    head, at, tail = url.rpartition("@")
    return f"{head.split('://')[0]}://***@{tail}" if at else url


def _is_user_of(session: Session, practice_id: int, user_id: int) -> bool:
    from sqlalchemy import select

    from remotecare.store.models import User

    return session.scalar(select(User.id).where(User.id == user_id, User.practice_id == practice_id)) is not None


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "[]"
    return str(value)


def main() -> None:
    app()
