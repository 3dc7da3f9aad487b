"""Sandbox figures: start-up time, request latency against plain moto, server memory.

Run: python benchmarks/sandbox_bench.py [--requests N] [--json FILE]

1. open-to-first-answer: time from `open_sandbox()` to the first `list_clusters` answer, cold (the
   first sandbox in a fresh process, which imports and loads moto's backends) and warm (later ones).
2. describe_services latency: the median of N calls through labkit's embedded emulator and through
   moto's own ThreadedMotoServer on 127.0.0.1, interleaved in one run; the ratio is what labkit's
   wrapper costs (account header, clock context, crash translation, loopback guard).
3. server RSS: resident memory of a `labkit sandbox` server process after a cluster, a service and an
   application load balancer exist in it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from _report import emit

TASK_DEFINITION: dict[str, Any] = {
    "family": "web",
    "containerDefinitions": [{"name": "web", "image": "nginxdemos/hello", "memory": 128}],
}


def _in_fresh_process(code: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def open_to_first_answer() -> dict[str, Any]:
    """Cold and warm time from open_sandbox() to the first answer, measured in a fresh process."""
    code = """
import json, statistics, time
t0 = time.perf_counter()
import labkit
import_s = time.perf_counter() - t0
times = []
for _ in range(6):
    start = time.perf_counter()
    with labkit.open_sandbox(clock="manual") as sb:
        sb.client("ecs").list_clusters()
        times.append(time.perf_counter() - start)
print(json.dumps({"import_labkit_s": round(import_s, 3), "cold_s": round(times[0], 3),
                  "warm_median_s": round(statistics.median(times[1:]), 4)}))
"""
    return _in_fresh_process(code)


def _moto_server_client() -> tuple[Any, Any]:
    from moto.server import ThreadedMotoServer

    # moto's server logs a line per request through werkzeug; keep the figures readable.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "ecs",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return server, client


def _prepare(ecs: Any) -> None:
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(**TASK_DEFINITION)
    ecs.create_service(cluster="bench", serviceName="web", taskDefinition="web", desiredCount=0)


def describe_services_latency(requests: int) -> dict[str, Any]:
    """Median describe_services latency through labkit and through plain moto, interleaved."""
    import labkit

    server, moto_ecs = _moto_server_client()
    try:
        with labkit.open_sandbox(clock="manual") as sb:
            labkit_ecs = sb.client("ecs")
            for ecs in (labkit_ecs, moto_ecs):
                _prepare(ecs)
                for _ in range(20):  # warm both paths
                    ecs.describe_services(cluster="bench", services=["web"])
            samples: dict[str, list[float]] = {"labkit": [], "moto": []}
            for _ in range(requests):
                for name, ecs in (("labkit", labkit_ecs), ("moto", moto_ecs)):
                    start = time.perf_counter()
                    ecs.describe_services(cluster="bench", services=["web"])
                    samples[name].append(time.perf_counter() - start)
    finally:
        server.stop()
    labkit_ms = statistics.median(samples["labkit"]) * 1000
    moto_ms = statistics.median(samples["moto"]) * 1000
    return {
        "requests_each": requests,
        "labkit_median_ms": round(labkit_ms, 3),
        "moto_median_ms": round(moto_ms, 3),
        "ratio_labkit_over_moto": round(labkit_ms / moto_ms, 3),
    }


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def server_memory() -> dict[str, Any]:
    """RSS of a server process when idle and after a cluster, service and load balancer exist."""
    import labkit
    from labkit.sandbox.server import start_server, stop_server

    with tempfile.TemporaryDirectory() as state:
        os.environ["LABKIT_STATE_DIR"] = state
        started = time.perf_counter()
        info = start_server(clock="manual")
        start_s = time.perf_counter() - started
        try:
            idle = _rss_mib(info.pid)
            with labkit.open_sandbox("server") as sb:
                ec2, ecs, elbv2 = sb.client("ec2"), sb.client("ecs"), sb.client("elbv2")
                vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
                subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"][:2]]
                _prepare(ecs)
                elbv2.create_load_balancer(Name="bench-alb", Subnets=subnets, Type="application")
                elbv2.create_target_group(
                    Name="bench-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
                )
                loaded = _rss_mib(info.pid)
        finally:
            stop_server()
    return {
        "server_start_s": round(start_s, 3),
        "idle_rss_mib": round(idle, 1),
        "loaded_rss_mib": round(loaded, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()
    figures = {
        "open_to_first_answer": open_to_first_answer(),
        "describe_services": describe_services_latency(args.requests),
        "server_memory": server_memory(),
    }
    emit(figures, args.json)


if __name__ == "__main__":
    main()
