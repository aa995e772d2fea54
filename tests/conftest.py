"""Fixtures shared by every test folder: the database (see `tests/databases.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import fresh_database, migrated_template


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from migrated_template(tmp_path_factory)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    return fresh_database(database_template, tmp_path)
