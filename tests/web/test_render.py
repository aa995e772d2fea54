"""The page filters that turn stored values into what a person reads."""

from __future__ import annotations

import datetime as dt

from remotecare.web.render import TEMPLATES


def test_an_instant_is_shown_on_its_day_where_it_is_read() -> None:
    day_in = TEMPLATES.env.filters["day_in"]
    late_evening_in_chicago = dt.datetime(2026, 11, 24, 0, 5, tzinfo=dt.UTC)
    assert day_in(late_evening_in_chicago, "America/Chicago") == "Nov 23, 2026"
    assert day_in(late_evening_in_chicago, "Europe/Berlin") == "Nov 24, 2026"
    assert day_in(None, "America/Chicago") == ""
    assert TEMPLATES.env.filters["money"](1234.5) == "$1,234.50"
