"""What changed between two years' rule sets (feeds `remotecare rules diff`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remotecare.rules.schema import RuleSet

# Where a value came from is not a change in the rule itself.
IGNORED_FIELDS = frozenset({"sources", "confidence", "note"})


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Change:
    """One code or program: added, removed, retired or changed field by field."""

    subject: str  # "99454" or "program RPM"
    kind: str  # added | removed | retired | changed
    fields: tuple[FieldChange, ...] = ()
    label: str = ""


def diff_rule_sets(old: RuleSet, new: RuleSet) -> list[Change]:
    changes = _diff_mapping(
        {f"program {name}": rule.model_dump() for name, rule in old.programs.items()},
        {f"program {name}": rule.model_dump() for name, rule in new.programs.items()},
    )
    changes += _diff_mapping(
        {code: rule.model_dump() for code, rule in old.codes.items()},
        {code: rule.model_dump() for code, rule in new.codes.items()},
    )
    old_phe = old.public_health_emergency.model_dump() if old.public_health_emergency else None
    new_phe = new.public_health_emergency.model_dump() if new.public_health_emergency else None
    if old_phe != new_phe:
        changes += _diff_mapping(
            {"public health emergency": old_phe} if old_phe else {},
            {"public health emergency": new_phe} if new_phe else {},
        )
    return changes


def _diff_mapping(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[Change]:
    changes = []
    for subject in sorted(old.keys() | new.keys()):
        before, after = old.get(subject), new.get(subject)
        if before is None:
            kind = "retired" if after and after.get("retired") else "added"
            changes.append(Change(subject, kind, label=_label(after)))
        elif after is None:
            changes.append(Change(subject, "removed", label=_label(before)))
        elif after.get("retired") and not before.get("retired"):
            changes.append(Change(subject, "retired", label=_label(after)))
        else:
            fields = tuple(
                FieldChange(name, before.get(name), after.get(name))
                for name in sorted(before.keys() | after.keys())
                if name not in IGNORED_FIELDS and before.get(name) != after.get(name)
            )
            if fields:
                changes.append(Change(subject, "changed", fields))
    return changes


def _label(rule: dict[str, Any] | None) -> str:
    return str((rule or {}).get("label") or "")
