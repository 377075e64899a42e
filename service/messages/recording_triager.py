"""``/v1/triage`` and ``/v1/triage/batch`` as a pipeline: triage, then log every message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from models.triager import TriageInput, TriageResult
from service.messages.message_entry import message_entry
from service.messages.message_recorder import MessageRecorder


class BatchTriager(Protocol):
    """Computes triage signals (``models.triager.Triager``)."""

    def triage_many(self, messages: Sequence[TriageInput]) -> list[TriageResult]:
        """Triage a batch."""
        ...


class RecordingTriager:
    """Triages messages and hands each to the message log (which returns at once)."""

    def __init__(self, triager: BatchTriager, *, recorder: MessageRecorder) -> None:
        self.triager = triager
        self.recorder = recorder

    def triage_each(self, messages: Sequence[TriageInput]) -> list[TriageResult]:
        """Triage and log messages that came one per request (``/v1/triage`` requests served
        together, ``service/request_coalescer.py``); results keep the input order."""
        return self._triage(messages, source="triage")

    def triage_many(self, messages: Sequence[TriageInput]) -> list[TriageResult]:
        """Triage and log a batch; results keep the input order."""
        return self._triage(messages, source="triage_batch")

    def _triage(self, messages: Sequence[TriageInput], *, source: str) -> list[TriageResult]:
        results = self.triager.triage_many(messages)
        self.recorder.record(
            [
                message_entry(
                    source,
                    result,
                    text=message.text,
                    subject=message.subject,
                    channel=message.channel,
                    history=message.history,
                )
                for message, result in zip(messages, results, strict=True)
            ]
        )
        return results
