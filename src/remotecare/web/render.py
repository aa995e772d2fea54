"""Pages and fragments rendered from the templates beside this module."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from remotecare.web.auth import Viewer

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _money(value: Decimal | float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def _day(value: dt.date | dt.datetime | None) -> str:
    return "" if value is None else f"{value:%b} {value.day}, {value.year}"


def _day_in(value: dt.datetime | None, zone: str) -> str:
    """An instant's calendar day where it is read (the patient's or the practice's zone), not in UTC."""
    return "" if value is None else _day(value.astimezone(ZoneInfo(zone)))


TEMPLATES.env.filters["money"] = _money
TEMPLATES.env.filters["day"] = _day
TEMPLATES.env.filters["day_in"] = _day_in


# The navigation: (label, path, the permission that shows it). A link appears only to roles that may use it.
NAVIGATION = (
    ("Worklist", "/app/worklist", "care:read"),
    ("Alerts", "/app/alerts", "alerts:read"),
    ("Billing", "/app/billing", "claims:read"),
    ("Admin", "/app/admin", "users:read"),
)


def page(
    request: Request, viewer: Viewer | None, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A whole page (base.html around it) or, for htmx, whatever the template renders."""
    nav = [(label, path) for label, path, permission in NAVIGATION if viewer is not None and viewer.may(permission)]
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "nav": nav, "path": request.url.path, **context},
        status_code=status_code,
    )
