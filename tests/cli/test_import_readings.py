"""`remotecare import readings FILE.csv`: against a migrated database (SQLite, or PostgreSQL with
REMOTECARE_TEST_DATABASE=postgresql) seeded with synthetic records."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from remotecare.cli import app
from remotecare.config import get_settings
from remotecare.domain.programs import Program
from remotecare.services.csv_import import ImportRefused, RejectedRow, import_readings
from remotecare.store.models import AuditEvent, Device, DeviceAssignment, Observation, Patient, Practice
from remotecare.store.session import make_engine
from tests.databases import fresh_database

runner = CliRunner()
UTC = dt.UTC
HEADER = "patient,device,type,at,manual,external_id,systolic,diastolic,pulse,kg,mg_dl,meal,nrs,taken,medication"
ASSIGNED_FROM = dt.date(2025, 3, 1)


@dataclass(frozen=True)
class Seeded:
    url: str
    practice: int
    patient: int
    device: int


def seed_database(url: str) -> Seeded:
    """Into a migrated, empty database: a practice, a patient in Chicago, and cuff BP-100 assigned to the
    patient from March 1."""
    engine = make_engine(url)
    with Session(engine) as session:
        practice = Practice(name="Prairie Family Medicine")
        session.add(practice)
        session.flush()
        patient = Patient(
            practice_id=practice.id,
            given_name="Synthetic",
            family_name="Patient",
            birth_date=dt.date(1950, 5, 17),
            medicare_id="1EG4TE5MK73",
            timezone="America/Chicago",
        )
        device = Device(practice_id=practice.id, serial="BP-100", kind="blood_pressure_cuff", medical_device=True)
        session.add_all([patient, device])
        session.flush()
        session.add(
            DeviceAssignment(
                practice_id=practice.id,
                device_id=device.id,
                patient_id=patient.id,
                program=Program.RPM,
                start_date=ASSIGNED_FROM,
            )
        )
        session.commit()
        seeded = Seeded(url, practice.id, patient.id, device.id)
    engine.dispose()
    return seeded


@pytest.fixture
def db(database_url: str) -> Seeded:
    return seed_database(database_url)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def invoke(url: str, *args: str) -> Result:
    get_settings.cache_clear()  # the database URL is read once per process otherwise
    return runner.invoke(app, ["import", "readings", *args], env={"REMOTECARE_DATABASE_URL": url})


def write_csv(tmp_path: Path, lines: list[str], name: str = "readings.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(patient: int | str, device: str, reading_type: str, at: str, **values: str) -> str:
    """A line under HEADER: the named cells filled, the others empty."""
    cells = dict.fromkeys(HEADER.split(","), "")
    cells.update(patient=str(patient), device=device, type=reading_type, at=at, **values)
    return ",".join(cells.values())


def observations(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    with Session(engine) as session:
        found = [
            (o.type, o.values, o.effective_at, o.local_date, o.manual, o.device_id, o.source, o.external_id)
            for o in session.scalars(select(Observation).order_by(Observation.id))
        ]
    engine.dispose()
    return found


def audit_details(url: str) -> list[dict[str, Any]]:
    engine = make_engine(url)
    with Session(engine) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    engine.dispose()
    for event in events:
        assert (event.actor_type, event.actor_label, event.action, event.entity) == (
            "cli",
            "remotecare import readings",
            "ingest",
            "observation",
        )
    return [event.detail for event in events]


def good_file(tmp_path: Path, db: Seeded) -> Path:
    p = db.patient
    return write_csv(
        tmp_path,
        [
            HEADER,
            # 03:30 UTC on the 10th is 22:30 on the 9th in Chicago (CDT, UTC-5, from March 9).
            row(p, "BP-100", "blood_pressure", "2025-03-10T03:30:00Z", systolic="128", diastolic="82", pulse="71"),
            row(p, "", "weight", "2025-03-10T13:05:00-05:00", kg="81.4"),
            row(p, "", "glucose", "2025-03-11T04:00:00Z", manual="yes", mg_dl="112", meal="fasting"),
            row(p, "", "pain_score", "2025-03-12T15:00:00Z", nrs="4"),
            row(p, "", "medication_adherence", "2025-03-12T15:00:00Z", external_id="app-1", taken="yes",
                medication="lisinopril 10 mg"),
        ],
    )  # fmt: skip


def test_a_good_file_is_stored_with_its_values_and_the_patients_local_day(tmp_path: Path, db: Seeded) -> None:
    path = good_file(tmp_path, db)
    result = invoke(db.url, str(path), "--practice", str(db.practice))
    assert result.exit_code == 0, result.output
    assert f"imported {path}: 5 stored, 0 duplicate, 0 refused\n" in result.output
    assert "Rejected" not in result.output
    assert observations(db.url) == [
        ("blood_pressure", {"systolic": 128, "diastolic": 82, "pulse": 71},
         dt.datetime(2025, 3, 10, 3, 30, tzinfo=UTC), dt.date(2025, 3, 9), False, db.device, "csv", None),
        ("weight", {"kg": 81.4}, dt.datetime(2025, 3, 10, 18, 5, tzinfo=UTC), dt.date(2025, 3, 10), False, None,
         "csv", None),
        ("glucose", {"mg_dl": 112, "meal": "fasting"}, dt.datetime(2025, 3, 11, 4, tzinfo=UTC), dt.date(2025, 3, 10),
         True, None, "csv", None),
        ("pain_score", {"nrs": 4}, dt.datetime(2025, 3, 12, 15, tzinfo=UTC), dt.date(2025, 3, 12), False, None, "csv",
         None),
        ("medication_adherence", {"taken": True, "medication": "lisinopril 10 mg"},
         dt.datetime(2025, 3, 12, 15, tzinfo=UTC), dt.date(2025, 3, 12), False, None, "csv", "app-1"),
    ]  # fmt: skip


def test_importing_the_same_file_twice_stores_nothing_the_second_time(tmp_path: Path, db: Seeded) -> None:
    path = good_file(tmp_path, db)
    first = invoke(db.url, str(path), "--practice", str(db.practice))
    second = invoke(db.url, str(path), "--practice", str(db.practice))
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert f"imported {path}: 0 stored, 5 duplicate, 0 refused\n" in second.output
    assert len(observations(db.url)) == 5
    details = audit_details(db.url)
    assert [(d["stored"], d["duplicate"], len(d["stored_ids"])) for d in details] == [(5, 0, 5), (0, 5, 0)]


def rejected_file(tmp_path: Path, db: Seeded) -> Path:
    p = db.patient
    return write_csv(
        tmp_path,
        [
            HEADER,
            row(p, "BP-100", "blood_pressure", "2025-03-10T14:00:00Z", systolic="131", diastolic="84"),  # 2 stored
            row(p, "", "weight", "2099-01-01T00:00:00Z", kg="80"),  # 3 future time
            row(p, "BP-100", "blood_pressure", "2025-03-10T15:00:00Z", systolic="400", diastolic="80"),  # 4
            row(9999, "", "weight", "2025-03-10T15:00:00Z", kg="80"),  # 5 unknown patient
            row(p, "BP-100", "blood_pressure", "2025-02-15T15:00:00Z", systolic="120", diastolic="80"),  # 6
            row(p, "", "weight", "2025-03-10T15:00:00Z", kg="eighty"),  # 7 bad number
            row(p, "", "weight", "2025-03-10T15:00:00Z", kg="80", systolic="120"),  # 8 not a weight value
            row(p, "", "weight", "2025-03-10T08:00:00", kg="80"),  # 9 naive time
            f"{p},,weight",  # 10 wrong cell count
            row(p, "", "weight", "2025-03-11T15:00:00Z", kg="80.2"),  # 11 stored
        ],
    )


def expected_rejects(db: Seeded) -> list[list[str]]:
    return [
        ["3", "at", "2099-01-01T00:00:00+00:00 is in the future"],
        ["4", "systolic", "400 is outside the plausible range 50 to 300"],
        ["5", "patient", "no patient 9999 in this practice"],
        ["6", "device", f"device 'BP-100' is not assigned to patient {db.patient} on 2025-02-15"],
        ["7", "kg", "is not a number: 'eighty'"],
        ["8", "systolic", "is not a value of weight (its values: kg)"],
        ["9", "at", "'2025-03-10T08:00:00' has no UTC offset, so its instant is unknown (add Z or e.g. -06:00)"],
        ["10", "row", "has 3 cells; the header has 15"],
    ]


def test_rejected_rows_are_reported_by_line_and_field_and_written_to_rejects(tmp_path: Path, db: Seeded) -> None:
    path, rejects = rejected_file(tmp_path, db), tmp_path / "rejects.csv"
    result = invoke(db.url, str(path), "--practice", str(db.practice), "--rejects", str(rejects))
    assert result.exit_code == 1, result.output
    assert f"imported {path}: 2 stored, 0 duplicate, 8 refused\n" in result.output
    assert "Rejected rows (8)" in result.output
    for line, field, message in expected_rejects(db):
        assert any(f" {line} " in out and f" {field} " in out and message in out for out in result.output.splitlines())
    with rejects.open(newline="", encoding="utf-8") as file:
        assert list(csv.reader(file)) == [["line", "field", "message"], *expected_rejects(db)]
    assert [(o[0], o[1]) for o in observations(db.url)] == [
        ("blood_pressure", {"systolic": 131, "diastolic": 84}),
        ("weight", {"kg": 80.2}),
    ]


def test_a_clean_import_still_writes_the_rejects_file_with_its_header_only(tmp_path: Path, db: Seeded) -> None:
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("stale\n")
    result = invoke(db.url, str(good_file(tmp_path, db)), "--practice", str(db.practice), "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert rejects.read_bytes() == b"line,field,message\r\n"


def test_an_unknown_column_is_a_bad_file_and_nothing_is_stored(tmp_path: Path, db: Seeded) -> None:
    path = write_csv(tmp_path, ["patient,type,at,sytolic", f"{db.patient},weight,2025-03-10T15:00:00Z,80"])
    result = invoke(db.url, str(path), "--practice", str(db.practice))
    assert result.exit_code == 2
    assert f"error: {path}: unknown column 'sytolic'" in result.output
    assert observations(db.url) == [] and audit_details(db.url) == []


def test_a_missing_file_is_a_bad_argument(tmp_path: Path, db: Seeded) -> None:
    absent = tmp_path / "absent.csv"
    result = invoke(db.url, str(absent), "--practice", str(db.practice))
    assert result.exit_code == 2
    assert f"error: {absent}: no such file" in result.output


def test_an_unknown_practice_is_a_bad_argument(tmp_path: Path, db: Seeded) -> None:
    result = invoke(db.url, str(good_file(tmp_path, db)), "--practice", str(db.practice + 41))
    assert result.exit_code == 2
    assert f"error: --practice: no practice {db.practice + 41}" in result.output
    assert observations(db.url) == []


def test_a_database_without_the_tables_says_to_upgrade_it(tmp_path: Path, db: Seeded) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = invoke(empty, str(good_file(tmp_path, db)), "--practice", "1")
    assert result.exit_code == 2
    assert "run `remotecare db upgrade` first" in result.output
    assert "Traceback" not in result.output


def batch_file(tmp_path: Path, db: Seeded) -> Path:
    p = db.patient
    weight = row(p, "", "weight", "2025-03-12T13:00:00Z", kg="79.9")
    return write_csv(
        tmp_path,
        [
            HEADER,
            row(p, "BP-100", "blood_pressure", "2025-03-12T12:00:00Z", systolic="140", diastolic="90"),  # 2
            weight,  # 3
            weight,  # 4: the same reading again, in the next batch of two
            row(p, "", "weight", "2025-03-12T14:00:00Z", kg="0.5"),  # 5: refused
            row(p, "BP-100", "blood_pressure", "2025-03-12T12:00:00Z", systolic="140", diastolic="90"),  # 6 = 2
        ],
        name="batch.csv",
    )


def test_batches_of_two_give_the_same_result_as_one_batch_with_an_audit_event_each(
    tmp_path: Path, database_template: str
) -> None:
    # One database after the other (on PostgreSQL the tests share one database, emptied in between).
    counts = ("stored", "duplicate", "refused", "held")
    by_twos = seed_database(fresh_database(database_template, tmp_path / "twos"))
    path = batch_file(tmp_path, by_twos)
    twos = invoke(by_twos.url, str(path), "--practice", str(by_twos.practice), "--batch-size", "2")
    twos_stored, twos_audit = observations(by_twos.url), audit_details(by_twos.url)
    at_once = seed_database(fresh_database(database_template, tmp_path / "once"))
    once = invoke(at_once.url, str(path), "--practice", str(at_once.practice))
    assert twos.exit_code == once.exit_code == 1
    summary = f"imported {path}: 2 stored, 2 duplicate, 1 refused\n"
    assert summary in twos.output and summary in once.output
    assert twos_stored == observations(at_once.url)
    assert len(twos_stored) == 2

    [bp_id, weight_id] = [1, 2]  # the first two rows inserted into an empty table
    assert [(d["source"], d["file"], d["lines"], [d[c] for c in counts], d["stored_ids"]) for d in twos_audit] == [
        ("csv", "batch.csv", [2, 3], [2, 0, 0, 0], [bp_id, weight_id]),
        ("csv", "batch.csv", [4, 5], [0, 1, 1, 0], []),
        ("csv", "batch.csv", [6, 6], [0, 1, 0, 0], []),
    ]
    assert [(d["lines"], [d[c] for c in counts], d["stored_ids"]) for d in audit_details(at_once.url)] == [
        ([2, 6], [2, 2, 1, 0], [bp_id, weight_id])
    ]


def test_the_service_reports_progress_after_each_batch_and_refuses_an_unknown_practice(
    tmp_path: Path, db: Seeded
) -> None:
    engine = make_engine(db.url)
    factory = sessionmaker(engine)
    progress: list[int] = []
    now = dt.datetime(2025, 3, 12, 13, 30, tzinfo=UTC)  # the 14:00 weight is more than 5 minutes ahead of it
    report = import_readings(
        factory, db.practice, batch_file(tmp_path, db), now=now, batch_size=2, on_progress=progress.append
    )
    with pytest.raises(ImportRefused, match="--practice: no practice 99"):
        import_readings(factory, 99, batch_file(tmp_path, db), now=now)
    engine.dispose()
    assert progress == [2, 4, 5]
    assert (report.stored, report.duplicate, report.refused, report.held) == (2, 2, 1, 0)
    assert report.rejected == [RejectedRow(5, "at", "2025-03-12T14:00:00+00:00 is in the future")]
