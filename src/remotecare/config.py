"""The one place that reads the environment: RemoteCare's settings (prefix REMOTECARE_)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import platformdirs
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    folder = Path(platformdirs.user_data_dir("remotecare"))
    return f"sqlite:///{folder / 'remotecare.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REMOTECARE_", extra="ignore")

    database_url: str = ""
    session_hours: int = 12
    # Cookies are Secure by default; a demo on plain http://localhost turns this off.
    cookie_secure: bool = True
    login_attempts_per_window: int = 5
    login_window_seconds: int = 300
    page_size_max: int = 500
    # Where FileSender appends reminders (default: outbox.jsonl in the data folder, beside the default database).
    outbox_path: Path | None = None
    # The address providers call the API at (e.g. https://care.example.com), for webhook signatures that cover
    # the URL (SMS); default: the URL as the request arrived, which differs behind a proxy that rewrites it.
    public_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip() or default_database_url()
        # psycopg 3 is the PostgreSQL driver; accept the plain URL forms people paste.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        return value


@cache
def get_settings() -> Settings:
    return Settings()
