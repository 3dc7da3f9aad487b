"""Hub against shared workshop: per-learner memory and checkpoint latency with N learners on this machine.

Run: python benchmarks/hub_bench.py [--learners 20] [--checks 10] [--json FILE]

Both sides do the same work: every learner builds the nginx-alb lab's stack up to `service-scaled`
(security groups, cluster, task definition, load balancer, a service of three tasks), then all
learners at once run `--checks` `service-scaled` checks back to back, and the time of every check is
kept (p50, p95 over all of them); one learner alone runs the same checks first (the idle figure).

- hub: a real JupyterHub on 127.0.0.1 as `labkit hub config` writes it (simple spawner, fixed
  passwords), one single-user server per learner started through the hub's REST API, one kernel per
  learner started through that server's REST API (so launched by the learner's own Jupyter server),
  driven over its ZMQ channels; in each kernel `labkit.open_lab("nginx-alb")` opens its own embedded
  sandbox. Memory per learner: the proportional set size (PSS, so shared pages are split, not counted
  twice) of the learner's server and its kernel.
- workshop: one `labkit workshop` process for the roster (manual clock), each learner a process of its
  own driving its account through `WorkshopSandbox`, as a kernel would. Memory per learner: the
  workshop process's PSS / learners (server side), and with each learner's client process added
  (everything on this machine).
Needs configurable-http-proxy (npm ci --prefix .ci/npm) and Node.js.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import emit

UP_TO = "service-scaled"

#: What each hub kernel runs first: its own sandbox, the stack, a ready flag.
KERNEL_SETUP = f"""
import json, time, labkit
lab = labkit.open_lab("nginx-alb")
from labkit.labs import load_reference
_reference = load_reference(lab.lab)
_ids = lab.lab.checkpoints.ids()
for _id in _ids[: _ids.index({UP_TO!r}) + 1]:
    _reference.get(_id)(lab.sandbox)
from labkit.checkpoints import CheckContext
from labkit.grading import run_checkpoint
_checkpoint = lab.lab.checkpoints.get({UP_TO!r})
_context = CheckContext(lab.sandbox)
def _timed(n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        result = run_checkpoint(_checkpoint, _context)
        times.append(time.perf_counter() - start)
        assert result.passed, result.message
    return times
print("ready")
"""


def pss_mib(pid: int) -> float:
    """Proportional set size of one process in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    import psutil

    try:
        process = psutil.Process(pid)
        return [pid, *(child.pid for child in process.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(prefix: str, idle: list[float], busy: list[float]) -> dict[str, float]:
    return {
        f"{prefix}_check_idle_p50_ms": round(statistics.median(idle) * 1000, 1),
        f"{prefix}_check_busy_p50_ms": round(statistics.median(busy) * 1000, 1),
        f"{prefix}_check_busy_p95_ms": round(percentile(busy, 0.95) * 1000, 1),
        f"{prefix}_check_busy_over_idle_p50": round(statistics.median(busy) / statistics.median(idle), 2),
    }


# -- the hub ----------------------------------------------------------------------------------------


def _api(url: str, token: str, method: str = "GET", body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Authorization": f"token {token}"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=120) as answer:
        raw = answer.read()
        return json.loads(raw) if raw else None


def _kernel_client(home: Path, kernel_id: str) -> Any:
    from jupyter_client import BlockingKernelClient

    runtime = home / ".local" / "share" / "jupyter" / "runtime"
    deadline = time.monotonic() + 60
    while True:
        found = list(runtime.glob(f"kernel-{kernel_id}.json"))
        if found:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"no connection file for kernel {kernel_id} in {runtime}")
        time.sleep(0.2)
    client = BlockingKernelClient()
    client.load_connection_file(str(found[0]))
    client.start_channels()
    client.wait_for_ready(timeout=120)
    return client


def _run(client: Any, code: str, timeout: float = 600) -> str:
    """Execute `code`, return its stdout; raise with the traceback on an error."""
    out: list[str] = []
    reply = client.execute_interactive(
        code,
        timeout=timeout,
        output_hook=lambda msg: (
            out.append(msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None
        ),
    )
    if reply["content"]["status"] != "ok":
        raise RuntimeError("\n".join(reply["content"].get("traceback", [])))
    return "".join(out)


def hub_side(folder: Path, learners: int, checks: int) -> tuple[dict[str, Any], list[float], list[float]]:
    from tests.workshop.hubs import running_hub

    names = [f"l{i:02d}" for i in range(learners)]
    figures: dict[str, Any] = {}
    with running_hub(folder / "hub", names, ["teacher"]) as hub:
        token = hub.token("teacher")
        start = time.perf_counter()
        for name in names:
            _api(f"{hub.url}/hub/api/users/{name}/server", token, "POST", {})
        for name in names:
            deadline = time.monotonic() + 300
            while not (
                _api(f"{hub.url}/hub/api/users/{name}", token).get("servers", {}).get("", {}).get("ready")
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}'s server did not start")
                time.sleep(0.5)
        figures["hub_servers_started_s"] = round(time.perf_counter() - start, 1)
        clients = []
        for name in names:
            kernel = _api(f"{hub.url}/user/{name}/api/kernels", token, "POST", {"name": "python3"})
            clients.append(_kernel_client(hub.state / "homes" / name, kernel["id"]))
        start = time.perf_counter()
        for client in clients:
            client.execute(KERNEL_SETUP)
        for client in clients:
            _run(client, "None")  # waits for the setup before it (the shell channel runs in order)
        figures["hub_stacks_built_s"] = round(time.perf_counter() - start, 1)
        idle = json.loads(_run(clients[0], f"print(json.dumps(_timed({checks})))"))
        for client in clients:
            client.execute(f"print(json.dumps(_timed({checks})))")
        busy: list[float] = []
        for client in clients:
            while True:
                message = client.get_iopub_msg(timeout=600)
                if message["msg_type"] == "stream" and message["content"]["text"].startswith("["):
                    busy.extend(json.loads(message["content"]["text"]))
                    break
        servers = [int(s["pid"]) for s in _servers(hub)]
        per = [sum(pss_mib(p) for p in tree(pid)) for pid in servers]
        figures["hub_pss_mib_per_learner"] = round(statistics.mean(per), 1)
        figures["hub_pss_mib_total"] = round(sum(per))
        for client in clients:
            client.stop_channels()
    return figures, idle, busy


def _servers(hub: Any) -> list[dict[str, Any]]:
    """The learners' single-user server processes (found by their command line)."""
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "jupyterhub.singleuser" in cmdline or "labkit.workshop.hub_singleuser" in cmdline:
            found.append({"pid": process.info["pid"]})
    return found


# -- the shared workshop ----------------------------------------------------------------------------


def _workshop_learner(connection: str, checks: int, ready: Any, go: Any, results: Any) -> None:
    from workshop_bench import build_stack  # the same stack as workshop_bench.py

    from labkit.checkpoints import CheckContext
    from labkit.grading import run_checkpoint
    from labkit.labs import load_lab
    from labkit.sandbox.workshop_client import WorkshopSandbox

    sb = WorkshopSandbox(connection=connection)
    build_stack(sb)
    checkpoint = load_lab("nginx-alb").checkpoints.get(UP_TO)
    context = CheckContext(sb)
    ready.wait()
    go.wait()
    times = []
    for _ in range(checks):
        start = time.perf_counter()
        result = run_checkpoint(checkpoint, context)
        times.append(time.perf_counter() - start)
        assert result.passed, result.message
    import os

    results.put((os.getpid(), times, pss_mib(os.getpid())))


def workshop_side(
    folder: Path, learners: int, checks: int
) -> tuple[dict[str, Any], list[float], list[float]]:
    from labkit.checkpoints import CheckContext
    from labkit.grading import run_checkpoint
    from labkit.labs import load_lab
    from labkit.sandbox.workshop_client import WorkshopSandbox
    from labkit.workshop.server import start_workshop, stop_workshop

    folder.mkdir(parents=True, exist_ok=True)
    roster = folder / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"l{i:02d},Learner {i}\n" for i in range(learners)))
    info = start_workshop(roster, out=folder / "connections", clock="manual", path=folder / "workshop.json")
    figures: dict[str, Any] = {}
    try:
        context = multiprocessing.get_context("spawn")
        ready = context.Barrier(learners + 1)
        go = context.Barrier(learners + 1)
        results = context.Queue()
        processes = [
            context.Process(
                target=_workshop_learner,
                args=(str(folder / "connections" / f"l{i:02d}.json"), checks, ready, go, results),
            )
            for i in range(learners)
        ]
        start = time.perf_counter()
        for process in processes:
            process.start()
        ready.wait()  # every learner's stack is built
        figures["workshop_stacks_built_s"] = round(time.perf_counter() - start, 1)
        # One learner alone first (the others wait at the barrier), from this process.
        sb = WorkshopSandbox(connection=folder / "connections" / "l00.json")
        checkpoint = load_lab("nginx-alb").checkpoints.get(UP_TO)
        ctx = CheckContext(sb)
        idle = []
        for _ in range(checks):
            t = time.perf_counter()
            assert run_checkpoint(checkpoint, ctx).passed
            idle.append(time.perf_counter() - t)
        server_pss = pss_mib(info.pid)
        go.wait()
        busy: list[float] = []
        clients: list[float] = []
        for _ in processes:
            _, times, client_pss = results.get(timeout=900)
            busy.extend(times)
            clients.append(client_pss)
        for process in processes:
            process.join(timeout=60)
        figures["workshop_server_pss_mib"] = round(server_pss)
        figures["workshop_pss_mib_per_learner_server_side"] = round(server_pss / learners, 1)
        figures["workshop_pss_mib_per_learner_with_client"] = round(
            server_pss / learners + statistics.mean(clients), 1
        )
    finally:
        stop_workshop(folder / "workshop.json")
    return figures, idle, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()
    figures: dict[str, Any] = {"learners": args.learners, "checks_per_learner": args.checks}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workshop, w_idle, w_busy = workshop_side(folder / "workshop", args.learners, args.checks)
        figures.update(workshop)
        figures.update(summary("workshop", w_idle, w_busy))
        hub, h_idle, h_busy = hub_side(folder, args.learners, args.checks)
        figures.update(hub)
        figures.update(summary("hub", h_idle, h_busy))
    figures["busy_p50_hub_over_workshop"] = round(
        figures["hub_check_busy_p50_ms"] / figures["workshop_check_busy_p50_ms"], 2
    )
    figures["busy_p95_hub_over_workshop"] = round(
        figures["hub_check_busy_p95_ms"] / figures["workshop_check_busy_p95_ms"], 2
    )
    figures["memory_per_learner_hub_over_workshop_with_client"] = round(
        figures["hub_pss_mib_per_learner"] / figures["workshop_pss_mib_per_learner_with_client"], 2
    )
    emit(figures, args.json)


if __name__ == "__main__":
    main()
