"""Delivering reminders: senders behind one interface (see `senders`)."""

from remotecare.notify.senders import (
    ConsoleSender,
    EmailSender,
    FileSender,
    OutgoingMessage,
    Sender,
    SendResult,
    SmsSender,
    default_outbox_path,
    local_senders,
)

__all__ = [
    "ConsoleSender",
    "EmailSender",
    "FileSender",
    "OutgoingMessage",
    "SendResult",
    "Sender",
    "SmsSender",
    "default_outbox_path",
    "local_senders",
]
