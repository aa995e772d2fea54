"""Worklist benchmark: the care team's worklist over a 5,000-patient demo practice, server time and memory.

    .venv/bin/python bench/worklist.py                          # 5,000 patients, SQLite and PostgreSQL
    .venv/bin/python bench/worklist.py --database sqlite --runs 30
    .venv/bin/python bench/worklist.py --url URL --practice ID  # a database seeded before (kept by --keep)
    .venv/bin/python bench/worklist.py --database sqlite --profile   # where the time goes, cold and warm

For each database: a fresh database and a demo practice (`services.demo_practice.generate`: September
2026 and the two weeks before it; about 25 readings and 3 time entries per patient a month), its patients
split by the demo between its two nurses as care managers (PostgreSQL analyzed afterwards, as
autovacuum would). Then, in a fresh process (its first worklist is cold, its peak memory its own), as of 20 September:

- cold: the first worklist: nothing kept, every patient's open periods evaluated;
- warm: the next ones, nothing changed (the kept evaluations checked against each patient's fingerprint);
- one new reading: a reading stored for another patient before each request, the usual case in a
  practice whose devices send all day (that patient evaluated again);
- care manager: one nurse's patients only, warm;
- no cache: every patient evaluated on every request (`worklist(cache=None)`), as before the cache;
- full replay: the work the worklist did before (every episode replayed from its start, from facts read
  from the earliest enrollment's start), for comparison;
- GET /worklist and the web page /app/worklist: the API route and the page in this process (TestClient),
  warm: the service, the audit record, and the JSON of every item or the HTML of the first 100 rows.

Each figure is a median and p95 over `--runs` requests, as wall time and as this process's CPU time. The
machine may be shared (others' tests running): CPU time is what this process spent, free of waiting for a
core; on PostgreSQL the server's own work is in the wall time only. Memory: the process's resident set and
its largest, before the first worklist, after it (the difference is what the cache holds) and at the end.
Target (issue 9): under 300 ms server time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.rules import load_rules
from remotecare.rules.evaluate import evaluate_activities
from remotecare.services.billing_facts import load_facts
from remotecare.services.demo_practice import demo_practice, generate
from remotecare.services.worklist import SHARED_CACHE, WorkItem, _urgency, work_items, worklist
from remotecare.store.migrate import upgrade
from remotecare.store.models import DeviceAssignment, Observation, Patient, Role, TimeEntry, User
from remotecare.store.session import make_engine

PG_SERVER = os.environ.get("REMOTECARE_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_DATABASE = "remotecare_bench_worklist"
MONTH = dt.date(2026, 9, 1)
AS_OF = dt.date(2026, 9, 20)
# Where the time goes: (label, the function whose cumulative time it is).
PHASES = (
    ("fingerprints (one query)", "patient_fingerprints"),
    ("load facts (queries)", "load_facts"),
    ("facts -> activities", "activities"),
    ("evaluation (rules, all)", "evaluate_activities"),
    ("  device progress + forecast", "device_progress"),
    ("  month progress + forecast", "month_progress"),
    ("work items (names, payment)", "work_items"),
    ("sort by urgency", "<method 'sort' of 'list' objects>"),
)


def fresh(kind: str, folder: Path | None) -> str:
    if kind == "sqlite":
        assert folder is not None
        url = f"sqlite:///{folder / 'worklist.db'}"
    else:
        admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
        admin.dispose()
        url = f"{PG_SERVER}/{PG_DATABASE}"
    upgrade(url)
    return url


def seed(url: str, patients: int) -> tuple[int, dict[str, Any]]:
    engine = make_engine(url)
    practice_id = demo_practice(engine, "Benchmark Practice")
    started = time.perf_counter()
    summary = generate(engine, practice_id, patients, MONTH)
    seconds = time.perf_counter() - started
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return practice_id, {"readings": summary.readings, "time_entries": summary.time_entries, "seed_seconds": seconds}


def timed(call: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def figures(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls = sorted(wall for wall, _ in samples)
    cpus = sorted(cpu for _, cpu in samples)
    p95 = min(len(walls) - 1, round(0.95 * (len(walls) - 1)))
    return {
        "wall_median": statistics.median(walls),
        "wall_p95": walls[p95],
        "cpu_median": statistics.median(cpus),
        "cpu_p95": cpus[p95],
        "runs": len(samples),
    }


def memory_mb() -> tuple[float, float]:
    """This process's resident memory now and at its largest, in MB. From /proc (Linux): `ru_maxrss`
    would carry the parent's peak over into a process it starts."""
    found = {}
    with Path("/proc/self/status").open() as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024
    if not found:  # not Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak
    return found["VmRSS"], found["VmHWM"]


def replay(session: Session, practice_id: int) -> list[WorkItem]:
    """The worklist's work before the open periods were evaluated alone and kept: every episode replayed
    from its start over the facts from the earliest enrollment's start, the periods in progress kept."""
    rules = load_rules()
    window = Window(AS_OF - dt.timedelta(days=31), AS_OF)
    facts = load_facts(session, practice_id, window)
    evaluation = evaluate_activities(facts.activities(), rules=rules, window=window, end_under_way=True)
    found = work_items(session, practice_id, evaluation.in_progress, rules)
    return sorted((item for items in found.values() for item in items), key=_urgency)


def measure(url: str, practice_id: int, runs: int) -> dict[str, Any]:
    """Every figure, in this process: the first worklist here is the cold one."""
    engine = make_engine(url)
    with Session(engine) as session:  # the connection and the rules, as a running server has them
        session.execute(select(Patient.id).limit(1)).all()
    load_rules()
    result: dict[str, Any] = {"mb_before": memory_mb()}

    def request(**options: Any) -> Callable[[], Any]:
        def call() -> Any:
            with Session(engine) as session:
                items = worklist(session, practice_id, AS_OF, **options)
                session.commit()
                return items

        return call

    with Session(engine) as session:
        wall, cpu = time.perf_counter(), time.process_time()
        items = worklist(session, practice_id, AS_OF)
        result["cold"] = figures([((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)])
        result["items"] = len(items)
        result["patients"] = SHARED_CACHE.last.evaluated
    result["mb_after_cold"] = memory_mb()
    result["warm"] = figures([timed(request()) for _ in range(runs)])

    with Session(engine) as session:
        devices = session.execute(
            select(DeviceAssignment.patient_id, DeviceAssignment.device_id).where(
                DeviceAssignment.practice_id == practice_id
            )
        ).all()
    rng = random.Random(9)
    changed = []
    for number in range(runs):
        patient_id, device_id = rng.choice(devices)
        with Session(engine) as session:
            session.add(
                Observation(
                    practice_id=practice_id,
                    patient_id=patient_id,
                    device_id=device_id,
                    type="blood_pressure",
                    values={"systolic": 121, "diastolic": 79},
                    effective_at=dt.datetime.combine(AS_OF, dt.time(20), tzinfo=dt.UTC),
                    local_date=AS_OF,
                    content_key=f"bench-worklist-{os.getpid()}-{number}",
                )
            )
            session.commit()
        changed.append(timed(request()))
        assert SHARED_CACHE.last.evaluated == 1, SHARED_CACHE.last
    result["one_new_reading"] = figures(changed)

    with Session(engine) as session:
        nurse = session.scalars(
            select(Patient.care_manager_id).where(Patient.practice_id == practice_id).limit(1)
        ).one()
    result["care_manager"] = figures([timed(request(care_manager_id=nurse)) for _ in range(runs)])
    result["care_manager_items"] = len(request(care_manager_id=nurse)())
    result["no_cache"] = figures([timed(request(cache=None)) for _ in range(max(3, runs // 4))])

    def replayed() -> None:
        with Session(engine) as session:
            replay(session, practice_id)

    result["replay"] = figures([timed(replayed) for _ in range(max(3, runs // 4))])
    api, web = app_requests(url, practice_id, runs)
    result["api"], result["page"] = figures(api), figures(web)
    result["mb_end"] = memory_mb()
    engine.dispose()
    return result


def app_requests(url: str, practice_id: int, runs: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """GET /worklist (JSON) and the web page /app/worklist (HTML, its first page of rows) through the
    application, in this process: what a server spends on one request."""
    from fastapi.testclient import TestClient

    from remotecare.api.app import create_app
    from remotecare.api.deps import SESSION_COOKIE
    from remotecare.api.security import token_digest
    from remotecare.config import Settings
    from remotecare.store.models import AuthSession

    token = f"bench-worklist-{os.getpid()}-{time.time_ns()}"  # a session of this run's, in the bench's database
    engine = make_engine(url)
    with Session(engine) as session:
        user = session.scalars(
            select(User).where(User.practice_id == practice_id, User.role == Role.CLINICAL_STAFF).order_by(User.id)
        ).first()
        assert user is not None
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=token_digest(token),
                expires_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
            )
        )
        session.commit()
    engine.dispose()
    app = create_app(Settings(database_url=url, cookie_secure=False))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}

        def call() -> None:
            response = client.get("/worklist", params={"as_of": AS_OF.isoformat()}, headers=headers)
            assert response.status_code == 200, response.text

        def page() -> None:
            response = client.get("/app/worklist", params={"as_of": AS_OF.isoformat()})
            assert response.status_code == 200 and "open periods" in response.text, response.text[:300]

        call()  # this app's first request
        samples = [timed(call) for _ in range(runs)]
        client.cookies.set(SESSION_COOKIE, token)
        page()
        pages = [timed(page) for _ in range(runs)]
    app.state.engine.dispose()
    return samples, pages


def profile(url: str, practice_id: int) -> str:
    """Cumulative time of each phase, cold (every patient evaluated) and warm."""
    engine = make_engine(url)
    out = io.StringIO()
    for label in ("cold", "warm"):
        profiler = cProfile.Profile()
        with Session(engine) as session:
            profiler.enable()
            worklist(session, practice_id, AS_OF)
            profiler.disable()
        stats = pstats.Stats(profiler)
        total = max(entry[3] for entry in stats.stats.values())  # type: ignore[attr-defined]
        out.write(f"\n{label} (under cProfile, which slows Python code down): {total * 1000:.0f} ms\n")
        for phase, function in PHASES:
            seconds = sum(
                entry[3]
                for (_, _, name), entry in stats.stats.items()  # type: ignore[attr-defined]
                if name == function
            )
            out.write(f"  {phase:32} {seconds * 1000:7.0f} ms  {100 * seconds / total:4.0f}%\n")
    engine.dispose()
    return out.getvalue()


def in_subprocess(url: str, practice_id: int, runs: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", "measure", "--url", url, "--practice", str(practice_id)]
        + ["--runs", str(runs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(results: list[dict[str, Any]]) -> str:
    rows = (
        ("cold (first request)", "cold"),
        ("warm, nothing changed", "warm"),
        ("warm, one new reading", "one_new_reading"),
        ("one care manager, warm", "care_manager"),
        ("no cache (every patient)", "no_cache"),
        ("full replay (the work before)", "replay"),
        ("GET /worklist (JSON), warm", "api"),
        ("web page /app/worklist (HTML, 100 rows), warm", "page"),
    )
    lines = []
    for r in results:
        lines.append(
            f"\n{r['database']}: {r['patients']:,} patients, {r.get('readings', 0):,} readings, "
            f"{r.get('time_entries', 0):,} time entries; {r['items']:,} open periods listed "
            f"({r['care_manager_items']:,} for one care manager); as of {AS_OF}"
        )
        lines.append("| request | runs | wall median | wall p95 | CPU median | CPU p95 |")
        lines.append("|---|---|---|---|---|---|")
        for label, key in rows:
            f = r[key]
            lines.append(
                f"| {label} | {f['runs']} | {f['wall_median']:.0f} ms | {f['wall_p95']:.0f} ms | "
                f"{f['cpu_median']:.0f} ms | {f['cpu_p95']:.0f} ms |"
            )
        (before, _), (cold, cold_peak), (end, end_peak) = r["mb_before"], r["mb_after_cold"], r["mb_end"]
        lines.append(
            f"memory (resident / peak): {before:.0f} MB before the first worklist, {cold:.0f} / {cold_peak:.0f} MB "
            f"after it (what is kept: {cold - before:.0f} MB), {end:.0f} / {end_peak:.0f} MB at the end"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20, help="requests per figure")
    parser.add_argument("--url", help="measure this database, seeded before (with --practice)")
    parser.add_argument("--practice", type=int, help="the practice's id in --url")
    parser.add_argument("--keep", type=Path, help="SQLite: seed into this folder and keep the file")
    parser.add_argument("--profile", action="store_true", help="print where the time goes, cold and warm")
    parser.add_argument("--phase", choices=["measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(measure(args.url, args.practice, args.runs)))  # noqa: T201 - read by the parent
        return
    targets: list[tuple[str, str, int, dict[str, Any]]] = []
    if args.url:
        engine = make_engine(args.url)
        with Session(engine) as session:
            detail = {
                "readings": session.scalar(select(func.count()).where(Observation.practice_id == args.practice)),
                "time_entries": session.scalar(select(func.count()).where(TimeEntry.practice_id == args.practice)),
            }
        targets.append((engine.dialect.name, args.url, args.practice, detail))
        engine.dispose()
    else:
        for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
            folder = None
            if kind == "sqlite":
                folder = args.keep or Path(tempfile.mkdtemp(prefix="remotecare-worklist-"))
                folder.mkdir(parents=True, exist_ok=True)
            url = fresh(kind, folder)
            practice_id, detail = seed(url, args.patients)
            targets.append((kind, url, practice_id, detail))
    results = []
    for kind, url, practice_id, detail in targets:
        if args.profile:
            print(f"{kind}:{profile(url, practice_id)}")  # noqa: T201 - the report is the output
        results.append({"database": kind, **detail, **in_subprocess(url, practice_id, args.runs)})
        if not args.url and not args.keep and kind == "sqlite":
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    print(report(results))  # noqa: T201 - the report is the output
    print(f"\n{' '.join([Path(sys.executable).name, *sys.argv])}")  # noqa: T201


if __name__ == "__main__":
    main()
