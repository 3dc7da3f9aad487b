"""Scaling figures: one emulated day of 50 Fargate services with CPU target tracking on a manual clock.

Run: python benchmarks/scaling_bench.py [--services N] [--hours H] [--step S] [--json FILE]

An embedded sandbox on a manual clock; N Fargate services (0.25 vCPU tasks, no ports), each a
scalable target (1 to 20 tasks) with a target tracking policy on ECSServiceAverageCPUUtilization
at 50 % (cooldowns 60 s out, 300 s in). Each service's CPU demand follows a daily wave with its
own phase (between 0.1 and 2.5 vCPU in all), set every S emulated seconds through
`Sandbox.set_load`, and the clock is advanced S seconds at a time for H hours. Reported: wall
seconds, timeline actions performed (task transitions, metric minutes, scheduled actions...) and
per wall second, emulated seconds per wall second, metric datapoints published, alarm
evaluations, scaling activities, and the tasks running at the end.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from _report import emit

WORKER: dict[str, Any] = {
    "family": "worker",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [{"name": "worker", "image": "busybox", "essential": True}],
}


def demand(index: int, services: int, seconds: float) -> float:
    """CPU units service `index` needs `seconds` into the day: a daily wave between 102 and 2560."""
    phase = 2 * math.pi * index / services
    wave = (1 + math.sin(2 * math.pi * seconds / 86400 + phase)) / 2
    return 102.4 + wave * (2560 - 102.4)


def one_day(services: int, hours: float, step: float) -> dict[str, Any]:
    """Run the scenario and return its figures."""
    import labkit

    with labkit.open_sandbox(clock="manual") as sb:
        ecs, aas = sb.client("ecs"), sb.client("application-autoscaling")
        subnets = [s["SubnetId"] for s in sb.client("ec2").describe_subnets()["Subnets"]][:3]
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(**WORKER)
        for index in range(services):
            name = f"svc-{index:02d}"
            ecs.create_service(
                cluster="bench", serviceName=name, taskDefinition="worker", desiredCount=1, launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
            )  # fmt: skip
            resource = f"service/bench/{name}"
            aas.register_scalable_target(
                ServiceNamespace="ecs", ResourceId=resource, ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=1, MaxCapacity=20,
            )  # fmt: skip
            aas.put_scaling_policy(
                PolicyName="cpu50", ServiceNamespace="ecs", ResourceId=resource,
                ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": 50.0,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                },
            )  # fmt: skip
        simulator = sb.emulator.simulator
        assert simulator is not None
        performed_before = simulator.performed
        evaluations_before = simulator.alarms.evaluations
        published_before = simulator.metrics.published
        total = hours * 3600
        elapsed = 0.0
        started = time.perf_counter()
        while elapsed < total:
            for index in range(services):
                sb.set_load(cluster="bench", service=f"svc-{index:02d}", cpu=demand(index, services, elapsed))
            sb.advance(step)
            elapsed += step
        sb.client("sts").get_caller_identity()  # one request: the last catch-up has happened
        wall = time.perf_counter() - started
        performed = simulator.performed - performed_before
        activities = len(simulator.autoscaling.activities)
        running = sum(
            int(s["runningCount"])
            for chunk in range(0, services, 10)
            for s in ecs.describe_services(
                cluster="bench", services=[f"svc-{i:02d}" for i in range(chunk, min(chunk + 10, services))]
            )["services"]
        )
    return {
        "services": services,
        "emulated_hours": hours,
        "load_step_s": step,
        "wall_s": round(wall, 2),
        "timeline_actions": performed,
        "actions_per_wall_s": round(performed / wall),
        "emulated_s_per_wall_s": round(total / wall),
        "datapoints_published": simulator.metrics.published - published_before,
        "alarm_evaluations": simulator.alarms.evaluations - evaluations_before,
        "scaling_activities": activities,
        "tasks_running_at_end": running,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--step", type=float, default=600.0, help="Emulated seconds between load changes.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()
    emit({"one_day": one_day(args.services, args.hours, args.step)}, args.json)


if __name__ == "__main__":
    main()
