"""Placement figure: 10,000 tasks on 1,000 instances (3 zones, mixed types), spread by zone then binpack.

Run: python benchmarks/placement_bench.py [--tasks N] [--instances M] [--repeat R] [--seed S]

Prints the best of R runs in seconds and tasks per second, and checks the outcome (every task placed
or failed, zones within one task of each other while capacity lasts).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from labkit.ecs.placement import (
    Instance,
    PlacementStrategy,
    TaskRequirements,
    place_tasks,
)

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
TYPES = ("t3.medium", "t3.large", "m5.large", "m5.xlarge", "c5.xlarge", "r5.large")
STRATEGIES = (
    PlacementStrategy.from_api({"type": "spread", "field": "attribute:ecs.availability-zone"}),
    PlacementStrategy.from_api({"type": "binpack", "field": "memory"}),
)


def make_instances(count: int, seed: int) -> list[Instance]:
    """`count` empty instances round-robin over three zones, types drawn with a seeded generator."""
    rng = random.Random(seed)
    return [
        Instance.of_type(
            f"arn:aws:ecs:us-east-1:123456789012:container-instance/bench/{i:05d}",
            f"i-{i:017x}",
            rng.choice(TYPES),
            ZONES[i % len(ZONES)],
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    instances = make_instances(args.instances, args.seed)
    # 256 CPU units, 512 MiB and one dynamic host port: a small web task.
    requirements = TaskRequirements(cpu=256, memory=512, dynamic_ports=1, group="service:web")
    timings = []
    for run in range(args.repeat):
        started = time.perf_counter()
        result = place_tasks(
            requirements, args.tasks, instances, STRATEGIES, rng=random.Random(args.seed + run)
        )
        timings.append(time.perf_counter() - started)

    by_zone: Counter[str | None] = Counter()
    zone_of = {instance.arn: instance.attributes["ecs.availability-zone"] for instance in instances}
    for placement in result.placements:
        by_zone[zone_of[placement.instance_arn]] += 1
    assert len(result.placements) + len(result.failures) == args.tasks
    best = min(timings)
    print(f"placed {len(result.placements)} tasks, {len(result.failures)} failures, per zone {dict(by_zone)}")
    print(
        f"{args.tasks} tasks on {args.instances} instances: best of {args.repeat} runs "
        f"{best:.3f} s, {args.tasks / best:,.0f} tasks/s"
    )


if __name__ == "__main__":
    main()
