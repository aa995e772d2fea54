"""The worklist's evaluations kept between requests, re-made only for the patients whose records changed.

A worklist evaluates every enrolled patient's open periods; most patients' records do not change from
one request to the next. Each request first reads every patient's fingerprint in one query
(`billing_facts.patient_fingerprints`: counts, highest ids and latest changes of the rows the evaluation
reads), then evaluates again only the patients whose fingerprint differs from the one their kept items
were made under, and keeps those. Nothing is ever served from here that the rules did not produce from
the records as they were when the fingerprint was read, or later: the fingerprint is read before the
facts, so a change that lands in between is evaluated now and seen again (as a change) next time.

What is kept is per database, practice and day (`as_of`), for one rule book, in this process's memory:
the last few asked for (`lists`, 4 by default; about 14 MB each for 5,000 patients, see bench/worklist.py).
A new day starts afresh (every period's days left have changed); `clear()` forgets everything.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from remotecare.rules import RuleBook
from remotecare.rules.periods import open_period_floor
from remotecare.services.billing_facts import patient_fingerprints
from remotecare.store.batches import IN_LIST, chunks

T = TypeVar("T")
Fingerprint = tuple[str | None, ...]
# Evaluates the open periods of the practice's patients: all of them (or the care manager's) when
# `patient_ids` is None, else only those (at most IN_LIST); returns each patient's items.
Evaluate = Callable[..., Mapping[int, Sequence[T]]]


@dataclass
class _Kept(Generic[T]):
    rules: RuleBook
    patients: dict[int, tuple[Fingerprint, tuple[T, ...]]] = field(default_factory=dict)


@dataclass
class CacheStats:
    """What the last request did: patients whose kept items served, and patients evaluated again."""

    reused: int = 0
    evaluated: int = 0


class WorklistCache(Generic[T]):
    def __init__(self, lists: int = 4) -> None:
        self._lists = lists
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, int, dt.date], _Kept[T]] = OrderedDict()
        self.last = CacheStats()

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def items(
        self,
        session: Session,
        practice_id: int,
        as_of: dt.date,
        rules: RuleBook,
        evaluate: Evaluate[T],
        *,
        care_manager_id: int | None = None,
    ) -> dict[int, tuple[T, ...]]:
        """Each patient's items (of the care manager's patients only, with one), the changed ones evaluated."""
        prints = patient_fingerprints(session, practice_id, open_period_floor(as_of), care_manager_id=care_manager_id)
        key = (session.get_bind().engine.url.render_as_string(hide_password=True), practice_id, as_of)
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept.rules is not rules:
                kept = self._kept[key] = _Kept(rules)
            self._kept.move_to_end(key)
            while len(self._kept) > self._lists:
                self._kept.popitem(last=False)
            stale = [patient for patient, value in prints.items() if kept.patients.get(patient, (None,))[0] != value]
        fresh = self._evaluate(session, practice_id, stale, len(prints), evaluate, care_manager_id)
        with self._lock:
            for patient in fresh.keys() & prints.keys():
                kept.patients[patient] = (prints[patient], fresh[patient])
            if care_manager_id is None:  # patients gone from the practice
                for patient in kept.patients.keys() - prints.keys():
                    del kept.patients[patient]
            self.last = CacheStats(reused=len(prints) - len(stale), evaluated=len(stale))
            return {patient: kept.patients[patient][1] for patient in prints if patient in kept.patients}

    @staticmethod
    def _evaluate(
        session: Session,
        practice_id: int,
        stale: Collection[int],
        scope: int,
        evaluate: Evaluate[T],
        care_manager_id: int | None,
    ) -> dict[int, tuple[T, ...]]:
        """The stale patients' items (none for a patient with no open period): when most of them are stale,
        the whole scope is read in one go (and every patient in it refreshed), else a chunk at a time."""
        if not stale:
            return {}
        if len(stale) > scope // 2:
            found = evaluate(session, practice_id, care_manager_id=care_manager_id, patient_ids=None)
            return {patient: tuple(found.get(patient, ())) for patient in set(found) | set(stale)}
        fresh: dict[int, tuple[T, ...]] = {}
        for chunk in chunks(sorted(stale), IN_LIST):
            found = evaluate(session, practice_id, care_manager_id=None, patient_ids=chunk)
            fresh.update({patient: tuple(found.get(patient, ())) for patient in chunk})
        return fresh
