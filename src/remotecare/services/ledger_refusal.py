"""Why the time ledger refused an entry, a timer or an edit."""

from __future__ import annotations


class LedgerRefusal(Exception):
    """Why an entry or a timer was refused: the field at fault, a message, and the record it conflicts with.

    `status` is the HTTP status the API answers with: 409 when another record is the cause, 404 when
    the thing asked for is not there, 422 otherwise.
    """

    def __init__(
        self,
        field: str,
        message: str,
        conflicting_id: int | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.conflicting_id = field, message, conflicting_id
        self.status = status or (409 if conflicting_id is not None else 422)
        self.code = code or {409: "conflict", 404: "not_found"}.get(self.status, "invalid")
