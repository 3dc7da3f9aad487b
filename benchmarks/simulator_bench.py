"""Simulator figures: a 1,000-task service reaching a steady state, and per-call overhead against moto.

Run: python benchmarks/simulator_bench.py [--tasks N] [--requests N] [--json FILE]

1. steady state: an embedded sandbox on a manual clock; a Fargate service of N tasks is created and
   the clock is advanced in 5 s steps until `services_stable` would return. Reported: wall seconds
   for the whole run, and how many emulated seconds it took. Measured twice: a worker image with no
   port (no stand-in servers) and the nginxdemos/hello image (one loopback HTTP server per task).
2. per-call overhead: the median latency of `describe_services` and `describe_tasks` (10 tasks)
   through labkit's embedded emulator (simulator on, catching up before every call) and through
   moto's own ThreadedMotoServer with the same resources, interleaved in one run; the ratio.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

import boto3
from _report import emit

WORKER: dict[str, Any] = {
    "family": "worker",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [{"name": "worker", "image": "busybox", "essential": True}],
}
HELLO: dict[str, Any] = {
    **WORKER,
    "family": "hello",
    "containerDefinitions": [
        {"name": "hello", "image": "nginxdemos/hello", "portMappings": [{"containerPort": 80}]}
    ],
}


def _subnets(ec2: Any) -> list[str]:
    return [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:3]


def steady_state(tasks: int, definition: dict[str, Any]) -> dict[str, Any]:
    """Wall time for a service of `tasks` tasks to reach a steady state on a manual clock."""
    import labkit

    with labkit.open_sandbox(clock="manual") as sb:
        ecs, ec2 = sb.client("ecs"), sb.client("ec2")
        subnets = _subnets(ec2)
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(**definition)
        started = time.perf_counter()
        ecs.create_service(
            cluster="bench",
            serviceName="big",
            taskDefinition=definition["family"],
            desiredCount=tasks,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        )
        emulated = 0
        while True:
            service = ecs.describe_services(cluster="bench", services=["big"])["services"][0]
            if len(service["deployments"]) == 1 and service["runningCount"] == tasks:
                break
            sb.advance(5)
            emulated += 5
        wall = time.perf_counter() - started
    return {
        "tasks": tasks,
        "image": definition["containerDefinitions"][0]["image"],
        "wall_s": round(wall, 2),
        "emulated_s": emulated,
    }


def _moto_ecs() -> tuple[Any, Any, Any]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    kwargs = {
        "endpoint_url": f"http://{host}:{port}",
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return server, boto3.client("ecs", **kwargs), boto3.client("ec2", **kwargs)


def _prepare(ecs: Any, ec2: Any, run: bool) -> list[str]:
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "busybox", "memory": 128}]
    )
    ecs.create_service(cluster="bench", serviceName="web", taskDefinition="web", desiredCount=0)
    if not run:
        # Plain moto cannot run tasks without a container instance; register one as the agent would.
        instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
        document = json.dumps({"instanceId": instance["InstanceId"]})
        ecs.register_container_instance(cluster="bench", instanceIdentityDocument=document)
    arns = [t["taskArn"] for t in ecs.run_task(cluster="bench", taskDefinition="web", count=10)["tasks"]]
    return arns


def per_call_overhead(requests: int) -> dict[str, Any]:
    """Median describe_services / describe_tasks latency through labkit and plain moto, interleaved."""
    import labkit

    server, moto_ecs, moto_ec2 = _moto_ecs()
    try:
        with labkit.open_sandbox(clock="manual") as sb:
            ecs, ec2 = sb.client("ecs"), sb.client("ec2")
            ecs.create_cluster(clusterName="bench")
            # boto3 base64-encodes UserData itself.
            ec2.run_instances(
                ImageId="ami-12c6146b",
                InstanceType="m5.large",
                MinCount=1,
                MaxCount=1,
                UserData="ECS_CLUSTER=bench\n",
            )
            sb.advance(60)
            labkit_tasks = _prepare_labkit(ecs)
            sb.advance(60)
            moto_tasks = _prepare(moto_ecs, moto_ec2, run=False)
            calls = {
                "describe_services": (
                    lambda: ecs.describe_services(cluster="bench", services=["web"]),
                    lambda: moto_ecs.describe_services(cluster="bench", services=["web"]),
                ),
                "describe_tasks": (
                    lambda: ecs.describe_tasks(cluster="bench", tasks=labkit_tasks),
                    lambda: moto_ecs.describe_tasks(cluster="bench", tasks=moto_tasks),
                ),
            }
            figures: dict[str, Any] = {"requests_each": requests}
            for name, (through_labkit, through_moto) in calls.items():
                for _ in range(20):
                    through_labkit()
                    through_moto()
                samples: dict[str, list[float]] = {"labkit": [], "moto": []}
                for _ in range(requests):
                    for who, call in (("labkit", through_labkit), ("moto", through_moto)):
                        start = time.perf_counter()
                        call()
                        samples[who].append(time.perf_counter() - start)
                labkit_ms = statistics.median(samples["labkit"]) * 1000
                moto_ms = statistics.median(samples["moto"]) * 1000
                figures[name] = {
                    "labkit_median_ms": round(labkit_ms, 3),
                    "moto_median_ms": round(moto_ms, 3),
                    "ratio_labkit_over_moto": round(labkit_ms / moto_ms, 3),
                }
    finally:
        server.stop()
    return figures


def _prepare_labkit(ecs: Any) -> list[str]:
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "busybox", "memory": 128}]
    )
    ecs.create_service(cluster="bench", serviceName="web", taskDefinition="web", desiredCount=0)
    return [t["taskArn"] for t in ecs.run_task(cluster="bench", taskDefinition="web", count=10)["tasks"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()
    figures = {
        "steady_state": [steady_state(args.tasks, WORKER), steady_state(args.tasks, HELLO)],
        "per_call": per_call_overhead(args.requests),
    }
    emit(figures, args.json)


if __name__ == "__main__":
    main()
