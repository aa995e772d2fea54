"""Put the web interface on the application: its pages, its static files, and how a page says no."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from remotecare.web.auth import LoginRequired, PageForbidden, PracticeChoiceRequired, login_url
from remotecare.web.render import page
from remotecare.web.routes import admin, alerts, billing, checkin, patients, practices, session, worklist

STATIC = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    for pages in (session, practices, worklist, patients, alerts, billing, admin, checkin):
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, error: LoginRequired) -> Response:
        if request.headers.get("hx-request") == "true":  # htmx follows this header to a whole page
            return Response(status_code=401, headers={"HX-Redirect": login_url(error.next_path)})
        return RedirectResponse(login_url(error.next_path), status_code=303)

    @app.exception_handler(PracticeChoiceRequired)
    async def to_practices(request: Request, error: PracticeChoiceRequired) -> Response:
        target = f"/app/practices?next={quote(error.next_path, safe='/')}"
        if request.headers.get("hx-request") == "true":
            return Response(status_code=409, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, error: PageForbidden) -> Response:
        viewer = getattr(request.state, "viewer", None)
        return page(
            request,
            viewer,
            "error.html",
            403,
            heading="Not for your role",
            message="Your role does not include this page or action. Ask an admin if you need it.",
        )
