"""Feedback figures: `labkit check LAB` on an empty and on a finished sandbox, and `labkit validate`.

Run: python benchmarks/check_bench.py [--labs nginx-alb,placement] [--repeat 10] [--validate] [--json FILE]

1. check: for each lab, a fresh `labkit sandbox` server (running clock, default speed) in a state
   folder of its own, warmed by one check in this process (moto loads its backends lazily);
   `labkit check LAB` as a fresh process `--repeat` times on the empty sandbox, then the lab's
   reference steps, then `--repeat` times again on the finished sandbox. Medians of the wall time of
   the whole command (its imports included), and one check in this process (no imports).
   `--compare OTHER_PYTHON` runs another checkout's `labkit check` (its venv's Python) interleaved
   with this one's against the same server, and gives the ratio of the medians.
2. validate (`--validate`): the whole course's `labkit validate --json --jobs 2` once, its total
   wall time and each lab's solution and learner run seconds (from the JSON).

Run it from the checkout whose code is measured (its venv active); to compare two checkouts, run
both in the same time window and compare ratios: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import emit


def timed_check(lab_id: str, env: dict[str, str], python: str = sys.executable) -> float:
    """Wall seconds of one `labkit check LAB` in a fresh process of `python`."""
    started = time.perf_counter()
    subprocess.run(
        [python, "-m", "labkit", "check", lab_id],
        env=env,
        # Not from a checkout: `python -m` puts the working folder first on sys.path, and a
        # checkout's folder would decide which labkit runs.
        cwd=env["LABKIT_STATE_DIR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started


def finish(lab_id: str) -> None:
    """Run every reference step of the lab against the running server (this process's state folder)."""
    from labkit.labs import load_lab, load_reference
    from labkit.sandbox import open_sandbox

    lab = load_lab(lab_id)
    reference = load_reference(lab)
    with open_sandbox("server", lab=lab_id) as sandbox:
        for checkpoint_id in lab.checkpoints.ids():
            step = reference.get(checkpoint_id)
            if step is not None:
                step(sandbox)


def interleaved(lab_id: str, env: dict[str, str], repeat: int, other: str | None) -> dict[str, float]:
    """Medians of `repeat` checks by this checkout and, interleaved, by the `other` Python's labkit."""
    mine: list[float] = []
    theirs: list[float] = []
    for turn in range(repeat):
        # Whoever asks first after a pause pays the simulator's catch-up: take turns at going first.
        if other and turn % 2:
            theirs.append(timed_check(lab_id, env, other))
        mine.append(timed_check(lab_id, env))
        if other and not turn % 2:
            theirs.append(timed_check(lab_id, env, other))
    figures = {"median_s": round(statistics.median(mine), 2), "max_s": round(max(mine), 2)}
    if other:
        figures["other_median_s"] = round(statistics.median(theirs), 2)
        figures["other_over_this"] = round(statistics.median(theirs) / statistics.median(mine), 2)
    return figures


def check_figures(lab_id: str, repeat: int, finished: bool, other: str | None = None) -> dict[str, Any]:
    from labkit.lab import check_sandbox
    from labkit.sandbox.server import start_server, stop_server

    with tempfile.TemporaryDirectory(prefix="check-bench-") as state:
        os.environ["LABKIT_STATE_DIR"] = state
        env = {**os.environ}
        start_server()
        try:
            check_sandbox(lab_id)  # moto loads its backends lazily: warm the server first
            figures: dict[str, Any] = {"lab": lab_id}
            figures.update({f"empty_{k}": v for k, v in interleaved(lab_id, env, repeat, other).items()})
            started = time.perf_counter()
            check_sandbox(lab_id)
            figures["empty_in_process_s"] = round(time.perf_counter() - started, 2)
            if finished:
                finish(lab_id)
                check_sandbox(lab_id)
                figures.update(
                    {f"finished_{k}": v for k, v in interleaved(lab_id, env, repeat, other).items()}
                )
        finally:
            stop_server()
            os.environ.pop("LABKIT_STATE_DIR", None)
    print(json.dumps(figures), file=sys.stderr, flush=True)
    return figures


def validate_figures(jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
        env = {**os.environ, "LABKIT_STATE_DIR": str(Path(tmp) / "state")}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "labkit", "validate", "--json", "--jobs", str(jobs)],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        total = time.perf_counter() - started
    results = json.loads(done.stdout) if done.stdout.strip() else []
    per_lab = {
        r["lab"]: {
            "ok": r["ok"],
            "problems": r["problems"],
            **{f"{version}_s": run["seconds"] for version, run in r["runs"].items()},
        }
        for r in results
    }
    return {"validate_total_s": round(total, 1), "validate_exit": done.returncode, "validate_labs": per_lab}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", default="", help="Comma-separated lab ids (default: every lab).")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--empty-only", action="store_true", help="Skip the finished sandbox.")
    parser.add_argument("--no-check", action="store_true", help="Skip the check figures.")
    parser.add_argument("--validate", action="store_true", help="Also time the whole course's validate.")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--compare",
        default=None,
        help="Another checkout's venv Python: its `labkit check` runs interleaved with this one's, same server.",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from labkit.labs import list_labs

    labs = [lab for lab in args.labs.split(",") if lab] or [lab.id for lab in list_labs()]
    figures: dict[str, Any] = {"repeat": args.repeat}
    if not args.no_check:
        figures["check"] = [
            check_figures(lab, args.repeat, not args.empty_only, args.compare) for lab in labs
        ]
    if args.validate:
        figures.update(validate_figures(args.jobs))
    emit(figures, args.json)


if __name__ == "__main__":
    main()
