"""What the triage and respond paths need from the message log: a place to hand entries to.

A Protocol, so the pipelines never depend on how (or whether) the log is stored; tests and
tools that want no log pass :class:`NoMessageRecorder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from service.messages.message_entry import MessageEntry


class MessageRecorder(Protocol):
    """Takes log entries; must return at once (storage happens elsewhere)."""

    def record(self, entries: Sequence[MessageEntry]) -> None:
        """Hand over entries for storage."""
        ...


class NoMessageRecorder:
    """Records nothing (CLI tools and benchmarks that triage without a service)."""

    def record(self, entries: Sequence[MessageEntry]) -> None:
        """Drop the entries."""
