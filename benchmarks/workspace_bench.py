"""What `labkit start` costs a learner: the workspace, the time to JupyterLab's URL, nbformat's import.

Run: python benchmarks/workspace_bench.py [--rounds 5] [--json FILE]

1. **workspace, fresh / again**: `prepare_workspace` of every lab into an empty folder, then again over
   it (nothing to write), median of `rounds`, in this process.
2. **start to URL**: `labkit start nginx-alb --no-browser` in a fresh process with a fresh HOME and
   Jupyter folders, from launch until it prints the URL (workspace, JupyterLab answering), then Ctrl-C
   (SIGINT) until it has exited; median of `rounds`.
3. **import nbformat**: in a fresh process, median of `rounds`. JupyterLab's dependencies bring
   jsonschema's format checkers (rfc3987-syntax builds its parsers at import), which every labkit
   command that reads a notebook pays once.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit

URL = re.compile(r"http://127\.0\.0\.1:\d+/\S*\?token=\w+")


def private_env(root: Path) -> dict[str, str]:
    """A fresh HOME, Jupyter folders and labkit state under `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "LABKIT_"))}
    for name, sub in (
        ("HOME", "home"),
        ("JUPYTER_CONFIG_DIR", "jcfg"),
        ("JUPYTER_DATA_DIR", "jdata"),
        ("JUPYTER_RUNTIME_DIR", "jrun"),
        ("LABKIT_STATE_DIR", "state"),
    ):
        (root / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(root / sub)
    return env


def start_once(root: Path) -> tuple[float, float]:
    """Seconds from launch to the printed URL, and from SIGINT to exit."""
    command = [
        sys.executable,
        "-m",
        "labkit",
        "start",
        "nginx-alb",
        "--no-browser",
        "--workspace",
        str(root / "ws"),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=private_env(root)
    )
    assert process.stdout is not None
    for line in process.stdout:
        if URL.search(line):
            break
    else:
        raise SystemExit(f"labkit start printed no URL (exit {process.wait()})")
    to_url = time.perf_counter() - started
    stopping = time.perf_counter()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    return to_url, time.perf_counter() - stopping


def import_nbformat() -> float:
    code = "import time; t = time.perf_counter(); import nbformat; print(time.perf_counter() - t)"
    return float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from labkit.workspace import prepare_workspace

    fresh, again, to_url, to_stop, imports = [], [], [], [], []
    for _ in range(args.rounds):
        root = Path(tempfile.mkdtemp(prefix="labkit-workspace-bench-"))
        try:
            t = time.perf_counter()
            prepare_workspace(root / "prepared")
            fresh.append(time.perf_counter() - t)
            t = time.perf_counter()
            prepare_workspace(root / "prepared")
            again.append(time.perf_counter() - t)
            url, stop = start_once(root)
            to_url.append(url)
            to_stop.append(stop)
            imports.append(import_nbformat())
        finally:
            shutil.rmtree(root, ignore_errors=True)
    median = lambda values: round(statistics.median(values), 3)  # noqa: E731
    emit(
        {
            "rounds": args.rounds,
            "workspace_fresh_s": median(fresh),
            "workspace_again_s": median(again),
            "start_to_url_s": median(to_url),
            "ctrl_c_to_exit_s": median(to_stop),
            "import_nbformat_s": median(imports),
            "load_average": os.getloadavg()[0],
        },
        args.json,
    )


if __name__ == "__main__":
    main()
