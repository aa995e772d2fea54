"""One writer at a time on a SQLite file, queued in the process rather than by SQLite's busy handler.

SQLite allows one write transaction at a time. When several threads of the
server write at once, the losers wait in SQLite's busy handler, which sleeps
1, 2, 5, 10 ... 100 ms between tries: under a steady stream of small writes
(readings arriving from many devices) that turns a 1 ms commit into waits of
hundreds of milliseconds. Here a connection takes a process-wide lock when it
first writes in a transaction and gives it back when the transaction ends, so
writers queue and each proceeds the moment the previous one commits. Readers
are not affected (WAL lets them run beside the writer).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

HOLDS = "remotecare_write_lock"
WAIT_SECONDS = 30.0  # as long as a request may reasonably wait; then a clear error, never a hang
READS = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")


def queue_writers(engine: Engine) -> None:
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if connection.info.get(HOLDS) or statement.lstrip()[:7].upper().startswith(READS):
            return
        if not lock.acquire(timeout=WAIT_SECONDS):
            raise OperationalError(statement, None, Exception("another write held the database too long"))
        connection.info[HOLDS] = True

    def _give_back(connection: Any, *_: Any) -> None:
        if connection.info.pop(HOLDS, False):
            lock.release()

    event.listen(engine, "commit", _give_back)
    event.listen(engine, "rollback", _give_back)

    @event.listens_for(engine.pool, "reset")
    def _on_reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        # A connection returned to the pool mid-transaction (an error path) must not keep the lock.
        if record.info.pop(HOLDS, False):
            lock.release()
