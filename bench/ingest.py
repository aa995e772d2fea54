"""Ingestion benchmark: readings per second through the HTTP API against the database's own limits.

    .venv/bin/python bench/ingest.py                      # SQLite and PostgreSQL, full size
    .venv/bin/python bench/ingest.py --database sqlite --quick

For each database, in one run, against one uvicorn server (one worker, as
`remotecare serve` runs it) on a freshly migrated database:

1. Batches of 1, 100 and 1,000 readings posted to /readings/batch by one
   sender, one request at a time, against a raw DBAPI `executemany` of the
   same number of rows, in batches of the same size with a commit per batch,
   into the same table of the same database. Reported: readings/s and ratio.
2. Single readings posted to /observations as fast as the server takes them
   (wrk, 1 thread, 8 connections, each request a new reading) against a bare
   endpoint on the same server that parses and validates the same body with
   the same framework and stores nothing. Reported: requests/s and ratio.
3. Single readings at a fixed 200 requests/s (an open-loop schedule, so a
   slow answer delays nothing that follows and latency counts from the
   scheduled send): p50 and p99 latency.

Targets (issue 5): batches >= 50% of the raw rate; single posts >= 50% of the
bare endpoint's requests/s; p99 < 50 ms at 200 requests/s. Needs `wrk`
(Debian package `wrk`) for part 2; without it, part 2 is skipped and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from remotecare.api.app import create_app
from remotecare.api.schemas.devices import ObservationIn
from remotecare.api.security import token_digest
from remotecare.config import Settings
from remotecare.store.migrate import upgrade
from remotecare.store.models import ApiKey, Device, DeviceAssignment, Patient, Practice
from remotecare.store.session import make_engine, make_session_factory

PG_SERVER = os.environ.get("REMOTECARE_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
API_KEY = "rck_benchkey_" + "x" * 32
PATIENTS = 200
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Pacific/Honolulu"]
BATCH_SIZES = (1, 100, 1000)


# --- the server under test ----------------------------------------------------------------------


def bench_app() -> FastAPI:
    """The real application, plus a bare endpoint of the same framework to compare against."""
    app = create_app(Settings(database_url=os.environ["REMOTECARE_DATABASE_URL"], cookie_secure=False))

    @app.post("/bench/bare", status_code=201)
    def bare(body: ObservationIn) -> dict[str, Any]:
        return {"id": 0, "type": body.type}

    return app


@contextmanager
def server(database_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "REMOTECARE_DATABASE_URL": database_url, "PYTHONPATH": str(Path(__file__).parents[1])}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.ingest:bench_app", "--port", str(port)]
        + ["--no-access-log", "--log-level", "warning"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the database -------------------------------------------------------------------------------


@dataclass
class World:
    url: str
    practice_id: int = 0
    patients: list[tuple[int, str, int]] = field(default_factory=list)  # (patient id, device serial, device id)


def fresh_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS remotecare_bench WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE remotecare_bench"))
    admin.dispose()
    return f"{PG_SERVER}/remotecare_bench"


def seed(url: str) -> World:
    upgrade(url)
    engine = make_engine(url)
    world = World(url)
    with make_session_factory(engine)() as session:
        practice = Practice(name="Synthetic Benchmark Practice")
        session.add(practice)
        session.flush()
        world.practice_id = practice.id
        session.add(ApiKey(practice_id=practice.id, name="bench", prefix="benchkey", key_hash=token_digest(API_KEY)))
        for number in range(PATIENTS):
            patient = Patient(
                practice_id=practice.id,
                given_name="Synthetic",
                family_name=f"Bench {number}",
                birth_date=dt.date(1950, 1, 1),
                medicare_id=f"{1 + number % 9}EG4TE5MK{number % 100:02d}",
                timezone=ZONES[number % len(ZONES)],
                established=True,
            )
            device = Device(practice_id=practice.id, serial=f"BENCH-{number:05d}", kind="bp_cuff", medical_device=True)
            session.add_all([patient, device])
            session.flush()
            session.add(
                DeviceAssignment(
                    practice_id=practice.id,
                    device_id=device.id,
                    patient_id=patient.id,
                    program="RPM",
                    start_date=dt.date(2020, 1, 1),
                )
            )
            world.patients.append((patient.id, device.serial, device.id))
        session.commit()
    engine.dispose()
    return world


class Readings:
    """Distinct readings, one minute apart, spread over the patients: never a duplicate across the run."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        self.count = 0

    def take(self, n: int) -> list[tuple[int, str, int, dt.datetime, int, int]]:
        out = []
        for _ in range(n):
            patient, serial, device = self.world.patients[self.count % len(self.world.patients)]
            at = self.start + dt.timedelta(minutes=self.count)
            out.append((patient, serial, device, at, 110 + self.count % 60, 70 + self.count % 20))
            self.count += 1
        return out


def batch_item(reading: tuple[int, str, int, dt.datetime, int, int]) -> dict[str, Any]:
    patient, serial, _, at, systolic, diastolic = reading
    return {
        "patient": patient,
        "device": serial,
        "at": at.isoformat(),
        "type": "blood_pressure",
        "values": {"systolic": systolic, "diastolic": diastolic},
    }


# --- 1. batches against executemany -------------------------------------------------------------


def api_batches(base: str, readings: Readings, size: int, total: int) -> float:
    bodies = [
        json.dumps({"readings": [batch_item(r) for r in readings.take(size)]}).encode() for _ in range(total // size)
    ]
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        client.post("/readings/batch", content=bodies[0])  # warm-up, not counted
        gc.collect()
        gc.disable()  # the client's collections are not the server's time
        started = time.perf_counter()
        for body in bodies[1:]:
            response = client.post("/readings/batch", content=body)
            if response.status_code != 200 or response.json()["stored"] != size:
                raise RuntimeError(f"batch not stored: {response.status_code} {response.text[:300]}")
        elapsed = time.perf_counter() - started
        gc.enable()
    return size * (len(bodies) - 1) / elapsed


COLUMNS = (
    'practice_id, patient_id, device_id, type, "values", effective_at, local_date, manual, source, '
    "external_id, content_key, received_at, provenance"
)


def raw_executemany(world: World, readings: Readings, size: int, total: int) -> tuple[int, float]:
    """The same rows the API would write, inserted with the driver's executemany and a commit per batch:
    (rows, seconds)."""
    sqlite = world.url.startswith("sqlite")
    marker = "?" if sqlite else "%s"
    statement = f"INSERT INTO observations ({COLUMNS}) VALUES ({', '.join([marker] * 13)})"  # noqa: S608
    now = dt.datetime.now(dt.UTC)
    batches = []
    for _ in range(total // size):
        rows = []
        for patient, _serial, device, at, systolic, diastolic in readings.take(size):
            key = hashlib.sha256(f"raw{patient}{at.isoformat()}".encode()).hexdigest()
            values = json.dumps({"systolic": systolic, "diastolic": diastolic})
            effective = at.replace(tzinfo=None).isoformat(sep=" ") if sqlite else at
            received = now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now
            rows.append(
                (world.practice_id, patient, device, "blood_pressure", values, effective, at.date(), False, "api")
                + (None, key, received, "{}")
            )
        batches.append(rows)
    engine = make_engine(world.url)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        started = time.perf_counter()
        for rows in batches:
            cursor.executemany(statement, rows)
            connection.commit()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
        engine.dispose()
    return size * len(batches), elapsed


# --- 2. single posts at full speed, against the bare endpoint ----------------------------------

WRK_SCRIPT = """
local counter = 0
local thread_id = 0
local patients = {patients}
function setup(thread) thread:set("tid", thread_id); thread_id = thread_id + 1 end
request = function()
  counter = counter + 1
  local p = patients[(counter % #patients) + 1]
  local minute = {offset} + counter
  local body = string.format(
    '{{"patient_id": %d, "device_id": %d, "type": "blood_pressure", "values": {{"systolic": 120, "diastolic": 80}}, '
    .. '"effective_at": "2023-%02d-%02dT%02d:%02d:00Z", "external_id": "wrk-{run}-%d"}}',
    p[1], p[2], 1 + math.floor(minute / 40320) % 12, 1 + math.floor(minute / 1440) % 28,
    math.floor(minute / 60) % 24, minute % 60, counter)
  local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {key}"}}
  return wrk.format("POST", "{path}", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %f\\n", summary.requests, summary.errors.status, summary.duration / 1e6))
end
"""


def wrk_rate(base: str, world: World, path: str, seconds: int, run: str) -> tuple[float, int]:
    patients = "{" + ",".join(f"{{{p},{d}}}" for p, _, d in world.patients) + "}"
    script = WRK_SCRIPT.format(patients=patients, offset=0, run=run, path=path, key=API_KEY)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", handle.name, base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    line = next((line for line in output.splitlines() if line.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{output}")
    _, requests, errors, duration = line.split()
    return int(requests) / float(duration), int(errors)


# --- 3. latency at a fixed rate -----------------------------------------------------------------


async def paced(base: str, readings: Readings, rate: int, seconds: int) -> list[float]:
    """Open loop: request i is due at start + i/rate; its latency counts from then.

    The first second is a warm-up, not counted: it opens the connections (client to server, server to
    database) that a steady stream keeps open. The client's garbage collector is off while it measures:
    a collection over thousands of pending requests would stall the client and be counted as latency."""
    warm = rate
    bodies = []
    for patient, _serial, device, at, systolic, diastolic in readings.take(rate * seconds + warm):
        bodies.append(
            {
                "patient_id": patient,
                "device_id": device,
                "type": "blood_pressure",
                "values": {"systolic": systolic, "diastolic": diastolic},
                "effective_at": at.isoformat(),
            }
        )
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        start = time.perf_counter()

        async def one(index: int, body: dict[str, Any]) -> None:
            due = start + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            response = await client.post("/observations", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text[:200]}")
            if index >= warm:
                latencies.append((time.perf_counter() - due) * 1000)

        gc.collect()
        gc.disable()
        try:
            await asyncio.gather(*(one(index, body) for index, body in enumerate(bodies)))
        finally:
            gc.enable()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- the run ------------------------------------------------------------------------------------


def settle(url: str) -> None:
    """Let the previous phase's writes reach the disk, so the next phase measures its own load."""
    if url.startswith("sqlite"):
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
    else:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))
        engine.dispose()
    time.sleep(5)


def run(kind: str, quick: bool, phases: set[str]) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="remotecare-bench-"))
    try:
        url = fresh_database(kind, folder)
        world = seed(url)
        readings = Readings(world)
        result: dict[str, Any] = {"database": kind, "batches": {}, "single": "not run"}
        scale = 4 if quick else 1
        totals = {1: 2000 // scale, 100: 20_000 // scale, 1000: 60_000 // scale}
        with server(url) as base:
            for size in BATCH_SIZES if "batches" in phases else ():
                total = max(totals[size], 2 * size)
                # The raw insert runs half before and half after the API, so both see a table of the same size.
                before = raw_executemany(world, readings, size, total // 2)
                api = api_batches(base, readings, size, total)
                after = raw_executemany(world, readings, size, total // 2)
                raw = (before[0] + after[0]) / (before[1] + after[1])
                result["batches"][size] = {"api_per_s": api, "raw_per_s": raw, "ratio": api / raw}
            seconds = 5 if quick else 15
            if "single" not in phases:
                pass
            elif shutil.which("wrk"):
                bare, bare_errors = wrk_rate(base, world, "/bench/bare", seconds, f"{kind}-bare")
                single, single_errors = wrk_rate(base, world, "/observations", seconds, f"{kind}-single")
                result["single"] = {
                    "api_per_s": single,
                    "bare_per_s": bare,
                    "ratio": single / bare,
                    "non_2xx": single_errors + bare_errors,
                }
            else:
                result["single"] = "skipped: wrk is not installed (apt-get install wrk)"
            if "latency" in phases:
                settle(url)
                latencies = asyncio.run(paced(base, readings, 200, 5 if quick else 15))
                result["latency_at_200_per_s"] = {
                    "requests": len(latencies),
                    "p50_ms": statistics.median(latencies),
                    "p99_ms": percentile(latencies, 0.99),
                    "max_ms": max(latencies),
                }
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(results: list[dict[str, Any]]) -> str:
    lines = ["| database | measure | API | baseline | ratio | target |", "|---|---|---|---|---|---|"]
    for result in results:
        db = result["database"]
        for size, batch in result["batches"].items():
            lines.append(
                f"| {db} | batch of {size}: readings/s | {batch['api_per_s']:,.0f} | "
                f"{batch['raw_per_s']:,.0f} (raw executemany) | {batch['ratio']:.0%} | >= 50% |"
            )
        single = result["single"]
        if single == "not run":
            pass
        elif isinstance(single, dict):
            lines.append(
                f"| {db} | single posts: requests/s | {single['api_per_s']:,.0f} | "
                f"{single['bare_per_s']:,.0f} (bare endpoint) | {single['ratio']:.0%} | >= 50% |"
            )
        else:
            lines.append(f"| {db} | single posts | {single} | | | |")
        latency = result.get("latency_at_200_per_s")
        if latency is None:
            continue
        lines.append(
            f"| {db} | single posts at 200/s: p50 / p99 / max | {latency['p50_ms']:.1f} / "
            f"{latency['p99_ms']:.1f} / {latency['max_ms']:.1f} ms | | | p99 < 50 ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test of the script")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--phases", default="batches,single,latency", help="which measurements: batches, single, latency"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    phases = set(args.phases.split(","))
    results = [run(kind, args.quick, phases) for kind in kinds]
    print(report(results))  # noqa: T201 - the report is the output
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
