"""Build the FastAPI application: the one place where the parts are wired together."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from remotecare import __version__
from remotecare.api.crud import crud_router
from remotecare.api.errors import install_error_handlers
from remotecare.api.resources import RESOURCES
from remotecare.api.routes import (
    admin,
    alerts,
    auth,
    billing,
    care_plans,
    care_teams,
    checkins,
    fhir,
    integrations,
    outreach,
    pain,
    readings,
    self_audit,
    sms,
    time_entries,
    timers,
    webhooks,
)
from remotecare.api.schemas.common import ErrorBody
from remotecare.api.security import LoginRateLimiter
from remotecare.config import Settings, get_settings
from remotecare.store.session import make_engine, make_session_factory
from remotecare.web.mount import install_web

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed JSON",
        401: "Not logged in, or the token or key is unknown, expired or revoked",
        403: "The caller's role may not do this",
        404: "No such record in the caller's practice",
        409: "A stale version, or a duplicate of a stored record",
        422: "A field is missing, of the wrong type or not allowed",
        429: "Too many failed logins",
    }.items()
}


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    # Everything loaded at start-up lives as long as the process: freezing it keeps the garbage collector's
    # full passes from walking it again and again, which otherwise costs more than storing a batch.
    gc.collect()
    gc.freeze()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        responses=ERROR_RESPONSES,
        title="RemoteCare API",
        version=__version__,
        description="Remote care management and CMS billing. Every call that touches patient data is "
        "authenticated, scoped to the caller's practice and written to the audit trail.",
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.login_limiter = LoginRateLimiter(settings.login_attempts_per_window, settings.login_window_seconds)
    install_error_handlers(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(readings.router)
    app.include_router(integrations.router)
    app.include_router(webhooks.router)
    app.include_router(fhir.router)
    app.include_router(billing.router)
    for workflow in (alerts, timers, time_entries, care_plans, pain, outreach, self_audit, care_teams, sms, checkins):
        app.include_router(workflow.router)
    for resource in RESOURCES:
        app.include_router(crud_router(resource))
    install_web(app)
    return app
