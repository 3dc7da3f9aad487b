"""Scaling figures: one emulated day of 50 Fargate services with CPU target tracking on a manual clock.

Run: python benchmarks/scaling_bench.py [--services N] [--rules R] [--hours H] [--step S] [--json FILE]

An embedded sandbox on a manual clock; N Fargate services (0.25 vCPU tasks, no ports), each a
scalable target (1 to 20 tasks) with a target tracking policy on ECSServiceAverageCPUUtilization
at 50 % (cooldowns 60 s out, 300 s in). Each service's CPU demand follows a daily wave with its
own phase (between 0.1 and 2.5 vCPU in all), set every S emulated seconds through
`Sandbox.set_load`, and the clock is advanced S seconds at a time for H hours. Beside them, R
EventBridge schedule rules (`rate(1 hour)`) each run a 30-second batch task
(`public.ecr.aws/labkit/job:1`, a workload that really runs) every hour. Reported: wall
seconds, timeline actions performed (task transitions, metric minutes, scheduled actions...) and
per wall second, emulated seconds per wall second, metric datapoints published, alarm
evaluations, scaling activities, rule runs (batch tasks started by the rules), and the tasks
running at the end.
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
JOB: dict[str, Any] = {
    **WORKER,
    "family": "hourly-job",
    "containerDefinitions": [
        {"name": "job", "image": "public.ecr.aws/labkit/job:1", "essential": True,
         "environment": [{"name": "JOB_SECONDS", "value": "30"}]}
    ],
}  # fmt: skip


def demand(index: int, services: int, seconds: float) -> float:
    """CPU units service `index` needs `seconds` into the day: a daily wave between 102 and 2560."""
    phase = 2 * math.pi * index / services
    wave = (1 + math.sin(2 * math.pi * seconds / 86400 + phase)) / 2
    return 102.4 + wave * (2560 - 102.4)


def one_day(services: int, rules: int, hours: float, step: float) -> dict[str, Any]:
    """Run the scenario and return its figures."""
    import labkit

    with labkit.open_sandbox(clock="manual") as sb:
        ecs, aas = sb.client("ecs"), sb.client("application-autoscaling")
        subnets = [s["SubnetId"] for s in sb.client("ec2").describe_subnets()["Subnets"]][:3]
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(**WORKER)
        job_arn = ecs.register_task_definition(**JOB)["taskDefinition"]["taskDefinitionArn"]
        events = sb.client("events")
        for index in range(rules):
            rule = f"hourly-{index:02d}"
            events.put_rule(Name=rule, ScheduleExpression="rate(1 hour)")
            events.put_targets(
                Rule=rule,
                Targets=[{
                    "Id": "batch", "Arn": "arn:aws:ecs:us-east-1:000000000000:cluster/bench",
                    "RoleArn": "arn:aws:iam::000000000000:role/events-run-task",
                    "EcsParameters": {
                        "TaskDefinitionArn": job_arn, "TaskCount": 1, "LaunchType": "FARGATE",
                        "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": subnets}},
                    },
                }],
            )  # fmt: skip
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
        rule_runs = sum(
            len(page["taskArns"])
            for index in range(rules)
            for status in ("RUNNING", "STOPPED")
            for page in ecs.get_paginator("list_tasks").paginate(
                cluster="bench", startedBy=f"events-rule/hourly-{index:02d}", desiredStatus=status
            )
        )
    return {
        "services": services,
        "schedule_rules": rules,
        "emulated_hours": hours,
        "load_step_s": step,
        "wall_s": round(wall, 2),
        "timeline_actions": performed,
        "actions_per_wall_s": round(performed / wall),
        "emulated_s_per_wall_s": round(total / wall),
        "datapoints_published": simulator.metrics.published - published_before,
        "alarm_evaluations": simulator.alarms.evaluations - evaluations_before,
        "scaling_activities": activities,
        "rule_runs": rule_runs,
        "tasks_running_at_end": running,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument(
        "--rules", type=int, default=50, help="Hourly schedule rules, each running a batch task."
    )
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--step", type=float, default=600.0, help="Emulated seconds between load changes.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()
    emit({"one_day": one_day(args.services, args.rules, args.hours, args.step)}, args.json)


if __name__ == "__main__":
    main()
