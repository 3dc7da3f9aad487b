"""Lab engine figures: a graded headless run against its floor, and one checkpoint check.

Run: python benchmarks/lab_bench.py [--lab nginx-alb] [--json FILE]

1. run vs floor: `labkit run LAB --solution` (prepare the solution version, start a server sandbox,
   execute the notebook in a fresh kernel, grade from outside) against the floor measured in the
   same run: a fresh kernel's start and shutdown plus the same code cells run as a plain Python
   script against an embedded sandbox.
2. one check: after the reference solution, the median time of one checkpoint check in an embedded
   sandbox on a manual clock (no waits), over every checkpoint of the lab, 20 times each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import emit


def kernel_start_stop() -> float:
    """Seconds to start a python3 kernel, wait until it answers, and shut it down at once."""
    from jupyter_client.manager import start_new_kernel

    started = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3")
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    return time.perf_counter() - started


def script_of(lab_id: str, folder: Path) -> Path:
    """The solution version's code cells as one Python script (the parameters cell first)."""
    from labkit.labs import load_lab
    from labkit.notebooks import read_notebook
    from labkit.runner import prepare_version

    notebook = read_notebook(prepare_version(load_lab(lab_id), "solution", folder))
    code = [
        "".join(cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code" and not "".join(cell.source).startswith("%")
    ]
    path = folder / f"{lab_id}.py"
    path.write_text("\n\n".join(code) + "\n", encoding="utf-8")
    return path


def run_vs_floor(lab_id: str) -> dict[str, Any]:
    from labkit.runner import run_lab

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        run = run_lab(lab_id, solution=True, results=folder / "results")
        run_s = time.perf_counter() - started
        kernel_s = kernel_start_stop()
        script = script_of(lab_id, folder)
        env = {**os.environ, "LABKIT_STATE_DIR": str(folder / "state")}
        started = time.perf_counter()
        subprocess.run([sys.executable, str(script)], check=True, env=env, cwd=folder, capture_output=True)
        script_s = time.perf_counter() - started
    floor = kernel_s + script_s
    return {
        "lab": lab_id,
        "score": f"{run.report.score}/{run.report.possible}",
        "run_s": round(run_s, 2),
        "floor_kernel_s": round(kernel_s, 2),
        "floor_script_s": round(script_s, 2),
        "floor_s": round(floor, 2),
        "ratio_run_over_floor": round(run_s / floor, 2),
    }


def one_check(lab_id: str, repeats: int = 20) -> dict[str, Any]:
    import labkit
    from labkit.checkpoints import CheckContext

    with tempfile.TemporaryDirectory() as state:
        os.environ["LABKIT_STATE_DIR"] = state
        with labkit.open_sandbox(clock="manual") as sb:
            session = labkit.open_lab(lab_id, sandbox=sb)
            session.catch_up(to=session.lab.checkpoints.ids()[-1])
            context = CheckContext(sb)
            per_checkpoint: dict[str, float] = {}
            samples: list[float] = []
            for checkpoint in session.lab.checkpoints:
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    assert checkpoint.check(context).passed
                    times.append(time.perf_counter() - started)
                per_checkpoint[checkpoint.id] = round(statistics.median(times) * 1000, 2)
                samples.extend(times)
    return {"median_ms": round(statistics.median(samples) * 1000, 2), "per_checkpoint_ms": per_checkpoint}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lab", default="nginx-alb")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = {
        "run_vs_floor": run_vs_floor(args.lab),
        "one_check": one_check(args.lab),
    }
    emit(figures, args.json)


if __name__ == "__main__":
    main()
