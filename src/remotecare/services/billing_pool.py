"""A billing run's slices judged side by side: the facts and the rules in worker processes, one slice each.

Judging is pure Python and takes most of a large run, so one process leaves the machine's other cores
idle. Workers read the facts over their own connections and send back only the proposed lines; the
caller's process writes every line, so there is one writer and one transaction. At most two slices per
worker are in flight, so memory holds a few slices' lines, never the practice's.
"""

from __future__ import annotations

import gc
import os
import resource
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from multiprocessing import get_context

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.rules import load_rules
from remotecare.rules.evaluate import evaluate_activities
from remotecare.rules.results import ClaimLine as ProposedLine
from remotecare.rules.results import Evaluation
from remotecare.rules.settings import PracticeSettings
from remotecare.services.billing_facts import load_facts
from remotecare.store.session import make_engine

Slice = tuple[int, int]  # (first patient id, last patient id)
IN_FLIGHT_PER_WORKER = 2


@dataclass
class PoolStats:
    """What the workers reported: their largest resident memory, in MB (None when none ran)."""

    worker_peak_mb: float | None = None

    def saw(self, peak_mb: float) -> None:
        self.worker_peak_mb = max(self.worker_peak_mb or 0.0, peak_mb)


_worker_engine: Engine | None = None  # one per worker process, made by its initializer
# A run makes millions of small objects that reference counting frees; the cycle collector's default of a
# pass every 700 allocations spent a fifth of the run walking them. Still collected, less often.
RUN_GC_THRESHOLD = (50_000, 20, 20)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The cycle collector at `RUN_GC_THRESHOLD` for the duration, then as it was."""
    before = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def evaluate_slice(
    session: Session, practice_id: int, window: Window, patients: Slice, settings: PracticeSettings | None
) -> Evaluation:
    facts = load_facts(session, practice_id, window, patients)
    return evaluate_activities(
        facts.activities(), rules=load_rules(), window=window, settings=settings, open_periods=False
    )


def evaluations(
    session: Session,
    practice_id: int,
    window: Window,
    slices: Sequence[Slice],
    settings: PracticeSettings | None,
    workers: int,
    stats: PoolStats | None = None,
) -> Iterator[tuple[Slice, Evaluation | tuple[ProposedLine, ...]]]:
    """Each slice with its evaluation, in order: the whole evaluation when judged here, its lines when
    judged by a worker. Here when one process is asked for, there is one slice, or the database lives
    in this process's memory."""
    url = session.get_bind().engine.url
    if workers < 2 or len(slices) < 2 or url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        for patients in slices:
            yield patients, evaluate_slice(session, practice_id, window, patients, settings)
        return
    address = url.render_as_string(hide_password=False)
    # forkserver: a worker never inherits this process's open connections or threads.
    context = get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(address,)) as pool:
        pending: deque[tuple[Slice, Future[tuple[tuple[ProposedLine, ...], float]]]] = deque()

        def submit(patients: Slice) -> None:
            pending.append((patients, pool.submit(_lines_of_slice, practice_id, window, patients, settings)))

        upcoming = iter(slices)
        for patients in islice(upcoming, workers * IN_FLIGHT_PER_WORKER):
            submit(patients)
        while pending:
            patients, future = pending.popleft()
            lines, peak_mb = future.result()
            if stats is not None:
                stats.saw(peak_mb)
            following = next(upcoming, None)
            if following is not None:
                submit(following)
            yield patients, lines


def _start_worker(address: str) -> None:
    global _worker_engine
    _worker_engine = make_engine(address)
    gc.set_threshold(*RUN_GC_THRESHOLD)  # the worker does nothing but judge slices
    load_rules()  # read once per worker, not once per slice


def _lines_of_slice(
    practice_id: int, window: Window, patients: Slice, settings: PracticeSettings | None
) -> tuple[tuple[ProposedLine, ...], float]:
    """The slice's lines, and this worker's peak memory so far (MB)."""
    assert _worker_engine is not None, "started by _start_worker"
    with Session(_worker_engine) as session:
        lines = evaluate_slice(session, practice_id, window, patients, settings).lines
    return lines, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
