"""Progress events: what a learner's kernel tells the workshop server, and where the server keeps them.

A learner's `open_lab(...)` posts an event when it opens a lab, checks a checkpoint, shows a hint
or catches up, if the learner's connection details name a workshop (`LABKIT_WORKSHOP`, the path of
the learner's connection file). An event that cannot be delivered is logged and dropped: the
learner's lab never fails because the instructor's server is away.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from labkit.sandbox.emulator import CONTROL_PREFIX, TOKEN_HEADER
from labkit.sandbox.guards import is_loopback_url

__all__ = ["EVENT_KINDS", "EventLog", "ProgressReporter", "reporter_from_env", "validate_event"]

log = logging.getLogger("labkit.workshop")

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


class ProgressReporter:
    """Posts a learner's progress events to the workshop server with the learner's token."""

    def __init__(self, workshop_url: str, token: str, *, timeout: float = 2.0) -> None:
        if not is_loopback_url(workshop_url):
            # A workshop server binds loopback; anything else is not ours to send progress to.
            raise ValueError(f"a workshop server is on 127.0.0.1, not {workshop_url}")
        self.url = workshop_url.rstrip("/") + CONTROL_PREFIX + "/workshop/progress"
        self._token = token
        self.timeout = timeout
        self.failures = 0

    def send(self, kind: str, lab: str, checkpoint: str | None = None, status: str | None = None) -> bool:
        """Post one event now; return False (and log why) when the server did not record it."""
        event = {
            "kind": kind,
            "lab": lab,
            "checkpoint": checkpoint,
            "status": status,
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        request = urllib.request.Request(
            self.url,
            data=json.dumps(event).encode(),
            method="POST",
            headers={TOKEN_HEADER: self._token, "Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return bool(json.loads(response.read() or b"{}").get("recorded"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.failures += 1
            log.warning("progress event not delivered to the workshop: %s", exc)
            return False


def load_connection(path: Path) -> dict[str, str]:
    """Read a learner's connection file; raises `LabkitError` naming the file when it is unusable."""
    from labkit.errors import LabkitError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LabkitError(f"workshop connection file {path} cannot be read: {exc}") from exc
    needed = ("workshop_url", "region", "learner", "account_id", "session_id", "access_key_id")
    missing = [k for k in (*needed, "secret_access_key", "token") if not isinstance(data.get(k), str)]
    if missing:
        raise LabkitError(f"workshop connection file {path} lacks {', '.join(missing)}")
    return {k: str(v) for k, v in data.items()}


def reporter_from_env() -> ProgressReporter | None:
    """The reporter of the learner's workshop named by `LABKIT_WORKSHOP`, or None outside a workshop."""
    where = os.environ.get("LABKIT_WORKSHOP")
    if not where:
        return None
    details = load_connection(Path(where))
    return ProgressReporter(details["workshop_url"], details["token"])
