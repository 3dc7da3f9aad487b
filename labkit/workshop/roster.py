"""A workshop's roster: a CSV file with one learner a row (`id` required, `name` optional).

Example::

    id,name
    ada,Ada Lovelace
    grace,Grace Hopper
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import LabkitError

__all__ = ["Learner", "RosterError", "read_roster"]

_LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class RosterError(LabkitError):
    """A roster file that cannot be read or has a bad row."""

    exit_code = 2

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"roster {path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Learner:
    """One learner of a workshop: an id (used in file names and reports) and a display name."""

    id: str
    name: str


def read_roster(path: Path) -> list[Learner]:
    """Read a roster CSV; raises `RosterError` for a missing file, no `id` column, a bad or repeated id."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(str(path), f"cannot be read: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "id" not in fields:
        raise RosterError(str(path), "needs an `id` column (and optionally `name`)")
    learners: list[Learner] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        learner_id = clean.get("id", "")
        if not learner_id:
            continue
        if not _LEARNER_ID.match(learner_id):
            raise RosterError(
                str(path), f"line {line}: id {learner_id!r} must be letters, digits, '.', '_' or '-'"
            )
        if learner_id in seen:
            raise RosterError(str(path), f"line {line}: id {learner_id!r} appears twice")
        seen.add(learner_id)
        learners.append(Learner(learner_id, clean.get("name") or learner_id))
    if not learners:
        raise RosterError(str(path), "has no learners")
    return learners
