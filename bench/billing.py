"""Billing-run benchmark: a month's billing run over a synthetic practice, against a bare count.

    .venv/bin/python bench/billing.py                         # 10,000 and 100,000 patients, both databases
    .venv/bin/python bench/billing.py --patients 10000 --database sqlite

For each database and size, in one run: a fresh database, a synthetic practice
(`remotecare demo --patients N`: about 25 readings and 3 time entries per
patient in the month), then, each in its own process so that its peak memory
is its own:

- the bare queries: distinct days with data per patient in the month, one GROUP BY over the readings;
  and per patient per 30-day period (counted from the device's assignment), the same GROUP BY joined to
  the assignments, the closest bare equivalent of what the run counts;
- the billing run: `run_billing` for the month (facts by set-based queries,
  the rules judged in one worker process per core, claim lines written by
  this process), committed.

Reported: wall time, peak resident memory, and the run's time as a multiple of
each bare query's. Targets (issue 6): 100,000 patients in under 60 s, within 3x
of the bare query, memory that does not grow with the number of readings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, and_, create_engine, func, select, text
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.services.billing_pool import default_workers
from remotecare.services.billing_run import run_billing
from remotecare.services.demo_practice import demo_practice, generate
from remotecare.store.migrate import upgrade
from remotecare.store.models import DeviceAssignment, Observation
from remotecare.store.session import make_engine

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
MONTH = dt.date(2026, 9, 1)
WINDOW = Window(dt.date(2026, 9, 1), dt.date(2026, 9, 30))


def fresh(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'billing.db'}"
    else:
        admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS remotecare_bench_billing WITH (FORCE)"))
            connection.execute(text("CREATE DATABASE remotecare_bench_billing"))
        admin.dispose()
        url = f"{PG_SERVER}/remotecare_bench_billing"
    upgrade(url)
    return url


def measure(phase: str, url: str, practice_id: int) -> dict[str, Any]:
    """Run one phase in this process and report its wall time and peak memory."""
    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        if phase == "bare":
            rows = session.execute(
                select(Observation.patient_id, func.count(func.distinct(Observation.local_date)))
                .where(
                    Observation.practice_id == practice_id,
                    Observation.local_date >= WINDOW.start,
                    Observation.local_date <= WINDOW.end,
                )
                .group_by(Observation.patient_id)
            ).all()
            detail = {"patients_with_data": len(rows), "worker_peak_mb": 0.0}
        elif phase == "bare_periods":
            rows = session.execute(_days_per_period(practice_id, session.get_bind().dialect.name)).all()
            detail = {"periods_with_data": len(rows), "worker_peak_mb": 0.0}
        else:
            report = run_billing(session, practice_id, WINDOW, workers=default_workers())
            session.commit()
            detail = {"lines": sum(report.counts().values()), "worker_peak_mb": report.pool.worker_peak_mb or 0.0}
    engine.dispose()
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": elapsed, "peak_mb": peak, **detail}


def _days_per_period(practice_id: int, dialect: str) -> Any:
    """Distinct days per patient, device assignment and 30-day period from the assignment's start, for the
    periods that end in the month (what the run bills): no rules, no episodes, no evidence."""
    if dialect == "postgresql":
        offset = Observation.local_date - DeviceAssignment.start_date  # whole days
    else:
        offset = func.cast(
            func.julianday(Observation.local_date) - func.julianday(DeviceAssignment.start_date), Integer
        )
    period = offset // 30
    period_end = DeviceAssignment.start_date + period * 30 + 29  # as a day count, compared below
    if dialect == "postgresql":
        ends_in_month = and_(period_end >= WINDOW.start, period_end <= WINDOW.end)
    else:
        last = func.julianday(DeviceAssignment.start_date) + period * 30 + 29
        ends_in_month = and_(
            last >= func.julianday(WINDOW.start.isoformat()), last <= func.julianday(WINDOW.end.isoformat())
        )
    return (
        select(Observation.patient_id, DeviceAssignment.id, period, func.count(func.distinct(Observation.local_date)))
        .join(
            DeviceAssignment,
            and_(
                DeviceAssignment.practice_id == Observation.practice_id,
                DeviceAssignment.device_id == Observation.device_id,
                DeviceAssignment.patient_id + 0 == Observation.patient_id,
            ),
        )
        .where(
            Observation.practice_id == practice_id,
            Observation.local_date >= WINDOW.start - dt.timedelta(days=29),
            Observation.local_date <= WINDOW.end,
            Observation.local_date >= DeviceAssignment.start_date,
            ends_in_month,
        )
        .group_by(Observation.patient_id, DeviceAssignment.id, period)
    )


def in_subprocess(phase: str, url: str, practice_id: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--url", url, "--practice", str(practice_id)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def run(kind: str, patients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="remotecare-billing-") as folder:
        url = fresh(kind, Path(folder))
        engine = make_engine(url)
        practice_id = demo_practice(engine, "Benchmark Practice")
        started = time.perf_counter()
        summary = generate(engine, practice_id, patients, MONTH)
        seeded = time.perf_counter() - started
        if kind == "postgresql":
            # Autovacuum keeps statistics on a live server; a freshly loaded one has none until it runs (and
            # some servers, this machine's among them, run with it off), which leaves the planner guessing.
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        engine.dispose()
        bare = in_subprocess("bare", url, practice_id)
        bare_periods = in_subprocess("bare_periods", url, practice_id)
        billing = in_subprocess("run", url, practice_id)
    return {
        "database": kind,
        "patients": patients,
        "readings": summary.readings,
        "time_entries": summary.time_entries,
        "seed_seconds": seeded,
        "bare": bare,
        "bare_periods": bare_periods,
        "run": billing,
        "ratio": billing["seconds"] / bare["seconds"],
        "ratio_periods": billing["seconds"] / bare_periods["seconds"],
    }


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | patients | readings | bare: month / periods | billing run | ratio: month / periods "
        "| peak memory: run / worker | lines |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['database']} | {r['patients']:,} | {r['readings']:,} | "
            f"{r['bare']['seconds']:.2f} / {r['bare_periods']['seconds']:.2f} s | "
            f"{r['run']['seconds']:.1f} s | {r['ratio']:.0f}x / {r['ratio_periods']:.0f}x | "
            f"{r['run']['peak_mb']:.0f} / {r['run']['worker_peak_mb']:.0f} MB | {r['run']['lines']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--patients", type=int, action="append", help="repeat for several sizes")
    parser.add_argument("--phase", choices=["bare", "bare_periods", "run"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--practice", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(measure(args.phase, args.url, args.practice)))  # noqa: T201 - read by the parent
        return
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = [run(kind, size) for size in (args.patients or [10_000, 100_000]) for kind in kinds]
    print(report(results))  # noqa: T201 - the report is the output


if __name__ == "__main__":
    main()
