"""Text that is safe to print on a terminal, whoever wrote it.

Learners' strings (names, lab and checkpoint ids, exception messages, resource names) reach the
instructor's and the grader's terminals. A terminal obeys control characters: ESC starts sequences
that move the cursor, clear the screen, retitle the window, or (OSC 52) write the clipboard; C1
codes do the same in one byte; a carriage return overwrites what a line said; bidirectional
overrides reorder what is shown. `printable` writes each such character as a visible escape
(`\\x1b`, `\\u202e`), so what was sent can still be read and nothing is obeyed.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 (tab, CR and LF included), DEL, C1; bidirectional embeddings, overrides and isolates; the
# Unicode line and paragraph separators (some terminals break lines on them).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEPING_LINES = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """Return `str(text)` with every control character written as a visible escape.

    `keep_newlines` keeps line feeds (text labkit composed of several lines); a single field a
    learner wrote is printed without it, so it cannot forge a line of its own.
    """
    pattern = _UNSAFE_KEEPING_LINES if keep_newlines else _UNSAFE
    return pattern.sub(_escape, str(text))
