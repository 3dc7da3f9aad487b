"""Workshops: many learners' sandboxes in one emulator process, their progress, and the instructor's report."""

from __future__ import annotations
