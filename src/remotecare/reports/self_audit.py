"""The self-audit report out: as JSON, as CSV (one row per finding) and as a printable HTML page.

The page needs nothing from elsewhere (no fonts, scripts or images), so it prints the same offline.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from remotecare.domain.self_audit import Finding, Section, SelfAuditReport

_TEMPLATES = Environment(loader=PackageLoader("remotecare.reports"), autoescape=select_autoescape(["html"]))
CSV_COLUMNS = ["check", "source", "patient_id", "patient_name", "claim_line_ids", "time_entry_ids", "detail"]


def report_json(report: SelfAuditReport) -> dict[str, Any]:
    return {
        "practice": {"id": report.practice_id, "name": report.practice_name},
        "month": str(report.month),
        "settings": report.settings.as_json(),
        "sections": [_section_json(section) for section in report.sections],
    }


def _section_json(section: Section) -> dict[str, Any]:
    check = section.check
    return {
        "check": str(check.id),
        "title": check.title,
        "source": dataclasses.asdict(check.source),
        "measures": check.measures,
        "measure": None if section.measure is None else dataclasses.asdict(section.measure),
        "none_found": section.none_found,
        "findings": [_finding_json(finding) for finding in section.findings],
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    patient = finding.patient
    return {
        "patient": None if patient is None else {"id": patient.id, "name": patient.name},
        "claim_line_ids": list(finding.claim_line_ids),
        "time_entry_ids": list(finding.time_entry_ids),
        "detail": finding.detail,
    }


def report_csv(report: SelfAuditReport) -> str:
    """One row per finding; a section with none says so in one row, and a practice-level measure has its
    own row, so every check of the report appears."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for section in report.sections:
        check, source = str(section.check.id), section.check.source.citation
        if section.measure is not None:
            writer.writerow([check, source, "", "", "", "", measure_text(section)])
        if section.none_found:
            writer.writerow([check, source, "", "", "", "", "None found."])
        for finding in section.findings:
            patient = finding.patient
            writer.writerow(
                [
                    check,
                    source,
                    "" if patient is None else patient.id,
                    "" if patient is None else patient.name,
                    " ".join(str(i) for i in finding.claim_line_ids),
                    " ".join(str(i) for i in finding.time_entry_ids),
                    finding.detail,
                ]
            )
    return buffer.getvalue()


def measure_text(section: Section) -> str:
    measure = section.measure
    if measure is None:
        return ""
    value = "not computable" if measure.value_pct is None else f"{measure.value_pct:g}%"
    verdict = "crosses" if measure.crosses else "does not cross"
    return f"Practice measure: {value} ({measure.basis}); the practice {verdict} the threshold."


def report_html(report: SelfAuditReport, *, now: dt.datetime) -> str:
    return _TEMPLATES.get_template("self_audit.html").render(
        report=report,
        settings=report.settings.as_json(),
        measure_text=measure_text,
        written_at=now.isoformat(timespec="seconds"),
    )
