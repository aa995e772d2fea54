"""Short human descriptions of a code's rule, for tables and reports."""

from __future__ import annotations

from remotecare.rules.schema import CodeRule, Role

PERFORMER_SHORT = {"physician": "MD", "qhp": "QHP", "clinical_staff": "staff"}


def threshold_text(rule: CodeRule) -> str:
    if rule.retired:
        return "retired"
    if rule.role in (Role.SETUP, Role.DEVICE_SUPPLY):
        if rule.max_days is None:
            return f"{rule.min_days}+ days of 30"
        return f"{rule.min_days}-{rule.max_days} days of 30"
    if rule.role == Role.ADD_ON:
        return f"+{rule.each_additional_minutes} min each (with {rule.add_on_to})"
    return f"{rule.minutes}+ min"


def performers_text(rule: CodeRule) -> str:
    return ", ".join(PERFORMER_SHORT.get(str(p), str(p)) for p in rule.performers) or "-"


def units_text(rule: CodeRule) -> str:
    if rule.retired:
        return "-"
    if rule.once_per_episode:
        return "1 per episode"
    return "no cap" if rule.units_per_period is None else str(rule.units_per_period)


def conditions_text(rule: CodeRule) -> str:
    parts = []
    if rule.interactive_communication:
        parts.append("interactive contact")
    if rule.focus:
        parts.append(f"focus {rule.focus}")
    if rule.complex_only:
        parts.append("complex only")
    if rule.face_to_face_first:
        parts.append("face-to-face visit first")
    if rule.requires_setting:
        parts.append(f"setting {rule.requires_setting}")
    if rule.excludes:
        parts.append("not with " + ", ".join(rule.excludes))
    return "; ".join(parts) or "-"
