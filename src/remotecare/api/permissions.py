"""Who may do what: the one permission table. Every route names one permission from it."""

from __future__ import annotations

from remotecare.store.models import Role

ADMIN, PHYSICIAN, STAFF, BILLER, INTEGRATOR = (
    Role.ADMIN,
    Role.PHYSICIAN,
    Role.CLINICAL_STAFF,
    Role.BILLER,
    Role.INTEGRATOR,
)
CARE_TEAM = frozenset({ADMIN, PHYSICIAN, STAFF})

# permission -> roles allowed. An API key acts with the integrator role and its own scope.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "practice:read": frozenset({ADMIN, PHYSICIAN, STAFF, BILLER, INTEGRATOR}),
    "practice:write": frozenset({ADMIN}),
    "patients:read": CARE_TEAM | {BILLER},
    "patients:write": CARE_TEAM,
    "care:read": CARE_TEAM | {BILLER},  # consents, enrollments, encounters, care plans, time
    "care:write": CARE_TEAM,
    "devices:read": CARE_TEAM | {BILLER, INTEGRATOR},
    "devices:write": CARE_TEAM,
    "observations:read": CARE_TEAM | {BILLER},
    "observations:write": CARE_TEAM | {INTEGRATOR},
    "held_readings:review": CARE_TEAM,
    "alerts:read": CARE_TEAM,
    "alerts:write": CARE_TEAM,
    "claims:read": frozenset({ADMIN, PHYSICIAN, BILLER}),
    "claims:write": frozenset({ADMIN, BILLER}),
    "users:read": frozenset({ADMIN}),
    "users:write": frozenset({ADMIN}),
    "api_keys:manage": frozenset({ADMIN}),
    "integrations:manage": frozenset({ADMIN}),
    "audit:read": frozenset({ADMIN}),
    "grants:manage": frozenset({ADMIN}),  # which care teams work this practice, in which programs
    "team:read": frozenset({ADMIN, PHYSICIAN, STAFF}),  # a care team's combined worklist and reports
    "self:read": frozenset({ADMIN, PHYSICIAN, STAFF, BILLER, INTEGRATOR}),
}

# What an API key's scope lets it do, whatever its integrator role would allow.
API_KEY_SCOPES: dict[str, frozenset[str]] = {
    "ingest": frozenset({"observations:write", "devices:read", "practice:read"}),
}

# Routes anyone may call: logging in, health and the API's own documentation.
PUBLIC_PATHS = frozenset(
    {
        "/auth/login",
        "/health",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/webhooks/{vendor}/{integration_id}",
        "/sms/inbound/{integration_id}",  # the SMS provider's webhook: signed
        "/static",  # the web interface's stylesheet and htmx
    }
)


# Public routes that authenticate each request by its signature instead of a login or key.
SIGNED_PATHS = frozenset({"/webhooks/{vendor}/{integration_id}", "/sms/inbound/{integration_id}"})


def role_may(role: Role, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def permission_table_markdown() -> str:
    """The table as it appears in the README (a test keeps the two the same)."""
    roles = list(Role)
    lines = ["| permission | " + " | ".join(roles) + " |", "|---|" + "---|" * len(roles)]
    for permission, allowed in PERMISSIONS.items():
        marks = " | ".join("yes" if role in allowed else "" for role in roles)
        lines.append(f"| {permission} | {marks} |")
    return "\n".join(lines)
