"""Event figures: what ECS events cost a big service, and how fast workloads work through a queue.

Run: python benchmarks/events_bench.py [--tasks N] [--messages N] [--json FILE]

1. event fan-out: a Fargate service of N tasks on a manual clock, advanced 5 s at a time until it is
   steady, twice in one run: without any rule (no event is built) and with a rule on every
   ECS Task State Change delivering to an SNS topic (4 events per task until RUNNING). Wall
   seconds of each, the ratio, and how many events were delivered.
2. workload throughput: M messages in a queue, drained by two `sqs-worker` tasks (WORK_SECONDS=1,
   each message one receive, one delete, one second of sandbox time). Wall seconds from the
   workers' first step until the queue is empty, and messages per wall second. Every AWS call of a
   workload is served in-process (no HTTP), in step with the clock.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from _report import emit

NOOP: dict[str, Any] = {
    "family": "noop",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [{"name": "noop", "image": "busybox", "essential": True}],
}


def _subnets(sb: Any) -> list[str]:
    return [s["SubnetId"] for s in sb.client("ec2").describe_subnets()["Subnets"]][:3]


def fan_out(tasks: int, with_rule: bool) -> dict[str, Any]:
    """Wall time for a service of `tasks` to reach steady state, with or without an ECS event rule."""
    import labkit

    with labkit.open_sandbox(clock="manual") as sb:
        ecs = sb.client("ecs")
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(**NOOP)
        if with_rule:
            # An SNS topic without subscribers: the figure is the router's, not moto SQS's (whose
            # send_message counts the whole queue, so an undrained queue slows every send).
            topic = sb.client("sns").create_topic(Name="ecs-events")["TopicArn"]
            events = sb.client("events")
            events.put_rule(
                Name="all-tasks", EventPattern=json.dumps({"detail-type": ["ECS Task State Change"]})
            )
            events.put_targets(Rule="all-tasks", Targets=[{"Id": "topic", "Arn": topic}])
        started = time.perf_counter()
        ecs.create_service(
            cluster="bench", serviceName="big", taskDefinition="noop", desiredCount=tasks, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": _subnets(sb)}},
        )  # fmt: skip
        while True:
            service = ecs.describe_services(cluster="bench", services=["big"])["services"][0]
            if len(service["deployments"]) == 1 and service["runningCount"] == tasks:
                break
            sb.advance(5)
        wall = time.perf_counter() - started
        simulator = sb.emulator.simulator  # type: ignore[attr-defined]
        delivered = len(simulator.events.delivered)
    return {"tasks": tasks, "rule": with_rule, "wall_s": round(wall, 2), "events_delivered": delivered}


def throughput(messages: int) -> dict[str, Any]:
    """Two sqs-worker tasks drain `messages` messages; wall seconds and messages per second."""
    import labkit

    with labkit.open_sandbox(clock="manual") as sb:
        sqs, iam, ecs = sb.client("sqs"), sb.client("iam"), sb.client("ecs")
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        for start in range(0, messages, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "MessageBody": f"job {n}"} for n in range(start, min(start + 10, messages))
                ],
            )
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
        }
        iam.put_role_policy(RoleName="worker", PolicyName="sqs", PolicyDocument=json.dumps(policy))
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(
            **{
                **NOOP,
                "family": "worker",
                "taskRoleArn": role,
                "containerDefinitions": [
                    {
                        "name": "worker",
                        "image": "public.ecr.aws/labkit/sqs-worker:1",
                        "environment": [
                            {"name": "QUEUE_URL", "value": url},
                            {"name": "WORK_SECONDS", "value": "1"},
                        ],
                    }
                ],
            }
        )
        ecs.create_service(
            cluster="bench", serviceName="workers", taskDefinition="worker", desiredCount=2, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": _subnets(sb)}},
        )  # fmt: skip
        sb.advance(21)  # the workers are RUNNING
        started = time.perf_counter()
        emulated = 0
        while True:
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if (
                int(attributes["ApproximateNumberOfMessages"])
                + int(attributes["ApproximateNumberOfMessagesNotVisible"])
                == 0
            ):
                break
            sb.advance(10)
            emulated += 10
        wall = time.perf_counter() - started
    return {
        "messages": messages,
        "wall_s": round(wall, 2),
        "emulated_s": emulated,
        "messages_per_wall_s": round(messages / wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    fan_out(10, True)  # warm moto's backends
    without = fan_out(args.tasks, False)
    with_rule = fan_out(args.tasks, True)
    figures = {
        "fan_out_without_rule": without,
        "fan_out_with_rule": with_rule,
        "fan_out_ratio": round(with_rule["wall_s"] / without["wall_s"], 2),
        "throughput": throughput(args.messages),
    }
    emit(figures, args.json)


if __name__ == "__main__":
    main()
