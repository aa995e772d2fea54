"""The permission table in the README is the one the code enforces."""

from __future__ import annotations

from pathlib import Path

from remotecare.api.permissions import permission_table_markdown


def test_the_readme_shows_the_permission_table_the_code_enforces() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert permission_table_markdown() in readme
