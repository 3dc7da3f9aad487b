"""Progress events: what a learner's kernel tells the workshop server, and where the server keeps them.

A learner's `open_lab(...)` posts an event when it opens a lab, checks a checkpoint, shows a hint
or catches up, if the learner's connection details name a workshop (`LABKIT_WORKSHOP`, the path of
the learner's connection file). The sending side (`ProgressReporter`, `reporter_from_env`) is the
learner's and lives in `labkit.sandbox.workshop_client`; it is re-exported here. This module is the
server's side: what an event may say (`validate_event`) and the log it is kept in (`EventLog`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

# The learner's side (reporter, connection file) lives with the workshop sandbox; re-exported here.
from labkit.sandbox.workshop_client import ProgressReporter, reporter_from_env

__all__ = ["EVENT_KINDS", "EventLog", "ProgressReporter", "reporter_from_env", "validate_event"]

#: What a progress event can say.
EVENT_KINDS = ("open", "check", "hint", "catch-up")
_STATUSES = ("passed", "failed", "not-graded")


def validate_event(payload: Any) -> dict[str, Any]:
    """Return the event's known fields, checked; raises `ValueError` naming the bad field."""
    if not isinstance(payload, dict):
        raise ValueError("an event is a JSON object")
    kind = payload.get("kind")
    if kind not in EVENT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(EVENT_KINDS)}")
    lab = payload.get("lab")
    if not isinstance(lab, str) or not lab or len(lab) > 100:
        raise ValueError("lab must be a non-empty string")
    event: dict[str, Any] = {"kind": kind, "lab": lab}
    checkpoint = payload.get("checkpoint")
    if kind != "open":
        if not isinstance(checkpoint, str) or not checkpoint or len(checkpoint) > 100:
            raise ValueError("checkpoint must be a non-empty string")
        event["checkpoint"] = checkpoint
    status = payload.get("status")
    if kind == "check":
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(_STATUSES)}")
        event["status"] = status
    at = payload.get("at")
    try:
        event["at"] = dt.datetime.fromisoformat(str(at)).isoformat()
    except ValueError:
        raise ValueError("at must be an ISO 8601 time") from None
    return event


class EventLog:
    """Progress events as JSON lines in one file, appended under a lock."""

    def __init__(self, path: Path, *, fresh: bool = True) -> None:
        self.path = path
        self._lock = threading.Lock()
        if fresh:
            path.write_text("", encoding="utf-8")

    def append(self, event: dict[str, Any]) -> None:
        """Add one event."""
        line = json.dumps(event, sort_keys=True) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def read(self) -> list[dict[str, Any]]:
        """Every event, oldest first (a torn last line is skipped)."""
        return read_events(self.path)


def read_events(path: Path) -> list[dict[str, Any]]:
    """Read an events file; lines that are not JSON objects are skipped."""
    events: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return events
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "learner" in event:
            events.append(event)
    return events
