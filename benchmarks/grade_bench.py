"""What confinement costs per graded notebook: `labkit grade` confined vs unconfined, in one run.

Run: python benchmarks/grade_bench.py [--lab nginx-alb] [--rounds 3] [--json FILE]

The lab's solution version is graded with `labkit grade NOTEBOOK --json` (a fresh process each
time, as a grader runs it), alternating the confinement `Confinement.choose()` picks here (bwrap
where it runs) with `LABKIT_CONFINEMENT=none`, `rounds` times each. Reported: the median wall
seconds of each, their ratio, the score each got, and the kernel start alone (a python3 kernel
started and shut down through labkit's kernel manager, confined and not, 5 times each).
"""

from __future__ import annotations

import argparse
import asyncio
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


def grade_once(notebook: Path, results: Path, confinement: str | None) -> tuple[float, str]:
    """Wall seconds of one `labkit grade --json` and the score it printed."""
    env = dict(os.environ)
    env.pop("LABKIT_CONFINEMENT", None)
    if confinement:
        env["LABKIT_CONFINEMENT"] = confinement
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "labkit", "grade", str(notebook), "--json", "--results", str(results)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    report = json.loads(done.stdout)
    return seconds, f"{report['score']}/{report['possible']}"


def kernel_start(jail_mode: str, folder: Path) -> float:
    """Seconds to start a python3 kernel through labkit's kernel manager (confined or not) and stop it."""
    from labkit.confinement import Confinement
    from labkit.execute import _kernel_manager
    from labkit.labs import load_lab

    confinement = Confinement.choose({"LABKIT_CONFINEMENT": jail_mode} if jail_mode == "none" else {})
    lab = load_lab("nginx-alb")
    notebook = folder / "empty.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    jail = confinement.prepare(
        lab_id=lab.id,
        lab_path=lab.path,
        notebook=notebook,
        sandbox_env={},
        kernel_state="{}",
        log_path=folder / "kernel.log",
    )

    async def once() -> float:
        manager = _kernel_manager(jail, folder / "kernel.log")(kernel_name="python3")
        started = time.perf_counter()
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
        return time.perf_counter() - started

    try:
        return asyncio.run(once())
    finally:
        jail.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="nginx-alb")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from labkit.confinement import Confinement
    from labkit.labs import load_lab
    from labkit.runner import prepare_version

    chosen = Confinement.choose()
    with tempfile.TemporaryDirectory(prefix="labkit-grade-bench-") as tmp:
        folder = Path(tmp)
        notebook = prepare_version(load_lab(args.lab), "solution", folder)
        confined: list[float] = []
        unconfined: list[float] = []
        scores: dict[str, str] = {}
        for _ in range(args.rounds):
            seconds, scores[chosen.mode] = grade_once(notebook, folder / "confined", None)
            confined.append(seconds)
            seconds, scores["none"] = grade_once(notebook, folder / "unconfined", "none")
            unconfined.append(seconds)
        starts = {mode: [kernel_start(mode, folder) for _ in range(5)] for mode in (chosen.mode, "none")}
    figures: dict[str, Any] = {
        "lab": args.lab,
        "confinement": chosen.mode,
        "runs_as": "nobody" if chosen.run_as else "the grader's user",
        "rounds": args.rounds,
        "grade_confined_s": round(statistics.median(confined), 2),
        "grade_unconfined_s": round(statistics.median(unconfined), 2),
        "ratio_confined_over_unconfined": round(
            statistics.median(confined) / statistics.median(unconfined), 3
        ),
        "scores": scores,
        "kernel_start_confined_s": round(statistics.median(starts[chosen.mode]), 3),
        "kernel_start_unconfined_s": round(statistics.median(starts["none"]), 3),
        "all_confined_s": [round(s, 2) for s in confined],
        "all_unconfined_s": [round(s, 2) for s in unconfined],
    }
    emit(figures, args.json)


if __name__ == "__main__":
    main()
