"""Workshop figures: thirty learners' sandboxes in one workshop process on this machine.

Run: python benchmarks/workshop_bench.py [--learners 30] [--checks 20] [--json FILE]

1. start: `start_workshop()` for the roster until the process answers (moto imported, every
   learner's emulator made), against one `labkit sandbox` server process started the same way.
2. memory: resident set size (VmRSS) of the workshop process idle, and after every learner has run the
   nginx-alb lab's reference steps up to `service-scaled` (security groups, cluster, task definition,
   load balancer, a service of three tasks with their stand-in servers); against one sandbox server
   process holding one learner's same stack. Per learner = workshop RSS / learners.
3. checkpoint latency: the median time of the lab's `service-scaled` check for one learner while the
   other learners are idle; while every other learner runs a bounded loop of describe calls with no
   pause (the worst case); and while each makes a burst of three calls every `--pause` seconds (a
   room at work). Loopback only; each loop stops after its count or 120 s.
All on a manual clock, so no learner's tasks move while the figures are taken.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import emit

from labkit.checkpoints import CheckContext
from labkit.grading import run_checkpoint
from labkit.labs import load_lab, load_reference
from labkit.sandbox.server import ServerSandbox, start_server, stop_server
from labkit.sandbox.workshop_client import WorkshopSandbox
from labkit.workshop.server import start_workshop, stop_workshop

UP_TO = "service-scaled"


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


def build_stack(sb: Any) -> None:
    """The nginx-alb reference steps up to UP_TO."""
    lab = load_lab("nginx-alb")
    reference = load_reference(lab)
    ids = lab.checkpoints.ids()
    for checkpoint_id in ids[: ids.index(UP_TO) + 1]:
        steps = reference.get(checkpoint_id)
        assert steps is not None, checkpoint_id
        steps(sb)


def check_latency(sb: Any, count: int) -> float:
    """Median seconds of one `service-scaled` check."""
    checkpoint = load_lab("nginx-alb").checkpoints.get(UP_TO)
    context = CheckContext(sb)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        result = run_checkpoint(checkpoint, context)
        times.append(time.perf_counter() - start)
        assert result.passed, result.message
    return statistics.median(times)


def busy_loop(sb: Any, stop: threading.Event, iterations: int, pause: float, done: list[int]) -> None:
    """What a busy learner does: three describe calls, `pause` seconds apart, a bounded number of times."""
    ecs, elbv2 = sb.client("ecs"), sb.client("elbv2")
    deadline = time.monotonic() + 120
    n = 0
    while n < iterations and not stop.is_set() and time.monotonic() < deadline:
        ecs.describe_services(cluster="nginx-lab", services=["hello"])
        ecs.list_tasks(cluster="nginx-lab")
        elbv2.describe_target_groups()
        n += 1
        if pause:
            stop.wait(pause)
    done.append(n)


def latency_under_load(
    me: Any, others: list[Any], checks: int, iterations: int, pause: float
) -> tuple[float, int]:
    """Median check latency for `me` while every other learner runs `busy_loop`; and the loops done."""
    stop = threading.Event()
    done: list[int] = []
    threads = [
        threading.Thread(target=busy_loop, args=(sb, stop, iterations, pause, done), daemon=True)
        for sb in others
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every busy learner is under way
    latency = check_latency(me, checks)
    stop.set()
    for thread in threads:
        thread.join(timeout=130)
    return latency, sum(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--checks", type=int, default=20)
    parser.add_argument("--busy-iterations", type=int, default=400)
    parser.add_argument("--pause", type=float, default=2.0, help="Seconds between a paced learner's bursts.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()
    figures: dict[str, Any] = {"learners": args.learners}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        roster = folder / "roster.csv"
        roster.write_text("id,name\n" + "".join(f"l{i:02d},Learner {i}\n" for i in range(args.learners)))

        start = time.perf_counter()
        single = start_server(clock="manual", path=folder / "server.json")
        figures["single_server_start_s"] = round(time.perf_counter() - start, 2)
        with ServerSandbox(region=single.region, state_path=folder / "server.json") as sb:
            build_stack(sb)
            figures["single_server_rss_mib_with_stack"] = rss_mib(single.pid)
        stop_server(folder / "server.json")

        start = time.perf_counter()
        info = start_workshop(
            roster, out=folder / "connections", clock="manual", path=folder / "workshop.json"
        )
        figures["workshop_start_s"] = round(time.perf_counter() - start, 2)
        try:
            figures["workshop_rss_mib_idle"] = rss_mib(info.pid)
            sandboxes = [
                WorkshopSandbox(connection=folder / "connections" / f"l{i:02d}.json")
                for i in range(args.learners)
            ]
            start = time.perf_counter()
            for sb in sandboxes:
                build_stack(sb)
            figures["all_stacks_built_s"] = round(time.perf_counter() - start, 1)
            loaded = rss_mib(info.pid)
            figures["workshop_rss_mib_with_stacks"] = loaded
            figures["workshop_rss_mib_per_learner"] = round(loaded / args.learners, 1)
            figures["separate_servers_rss_mib_estimate"] = round(
                figures["single_server_rss_mib_with_stack"] * args.learners
            )
            figures["memory_ratio_separate_over_workshop"] = round(
                figures["separate_servers_rss_mib_estimate"] / loaded, 1
            )

            me, others = sandboxes[0], sandboxes[1:]
            idle = check_latency(me, args.checks)
            busy, loops = latency_under_load(me, others, args.checks, args.busy_iterations, 0.0)
            paced, paced_loops = latency_under_load(me, others, args.checks, args.busy_iterations, args.pause)
            idle_again = check_latency(me, args.checks)
            figures["check_latency_idle_ms"] = round(idle * 1000, 1)
            figures["check_latency_idle_after_ms"] = round(idle_again * 1000, 1)
            figures["check_latency_busy_ms"] = round(busy * 1000, 1)
            figures["check_latency_ratio_busy_over_idle"] = round(busy / idle, 2)
            figures["busy_loops_completed"] = loops
            figures["check_latency_paced_ms"] = round(paced * 1000, 1)
            figures["check_latency_ratio_paced_over_idle"] = round(paced / idle, 2)
            figures["paced_loops_completed"] = paced_loops
        finally:
            stop_workshop(folder / "workshop.json")
    emit(figures, args.json)


if __name__ == "__main__":
    main()
