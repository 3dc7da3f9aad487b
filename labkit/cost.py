"""The cost preflight: what a lab will create in a real account and what it costs an hour.

A lab says what it creates in its `lab.toml`::

    [[aws.creates]]
    kind = "load-balancer"      # an application load balancer (zones: how many AZs it spans)
    zones = 2
    [[aws.creates]]
    kind = "fargate-task"       # count tasks of vcpu and memory_gib, public_ip when assignPublicIp
    count = 3
    vcpu = 0.25
    memory_gib = 0.5
    public_ip = true
    [[aws.creates]]
    kind = "nat-gateway"

Prices come from a dated table shipped with labkit (`labkit/data/prices.toml`: region, date,
per-hour prices). Before `open_lab(..., mode="aws")` creates anything it prints the estimate and
asks; without a terminal it refuses unless confirmed (`confirm_cost=True`, or
`aws.confirm_cost = true` in the configuration).
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from labkit.errors import LabkitError

__all__ = [
    "KINDS",
    "CostNotConfirmedError",
    "Estimate",
    "PlanItem",
    "PriceTable",
    "estimate",
    "load_prices",
    "plan_from_lab",
    "preflight",
]

#: What a lab can declare it creates.
KINDS = ("load-balancer", "fargate-task", "nat-gateway")


class CostNotConfirmedError(LabkitError):
    """The cost preflight was not confirmed, so nothing was created."""

    exit_code = 4

    def __init__(self, lab: str, hourly: float, reason: str) -> None:
        super().__init__(
            f"lab {lab} was not started in aws mode (about ${hourly:.4f} an hour): {reason}; confirm with "
            "open_lab(..., confirm_cost=True), `--confirm-cost`, or aws.confirm_cost = true in the labkit config"
        )
        self.lab = lab
        self.hourly = hourly
        self.reason = reason


@dataclass(frozen=True)
class PriceTable:
    """Hourly prices in one region on one date."""

    region: str
    currency: str
    checked: str
    prices: dict[str, float]

    def __getitem__(self, name: str) -> float:
        return self.prices[name]


def load_prices() -> PriceTable:
    """Read the price table shipped with labkit."""
    text = resources.files("labkit").joinpath("data/prices.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    meta = data["meta"]
    return PriceTable(
        str(meta["region"]),
        str(meta["currency"]),
        str(meta["checked"]),
        {k: float(v) for k, v in data["prices"].items()},
    )


@dataclass(frozen=True)
class PlanItem:
    """One kind of thing a lab creates, how many, and its size."""

    kind: str
    count: int = 1
    vcpu: float = 0.0
    memory_gib: float = 0.0
    public_ip: bool = False
    zones: int = 2


@dataclass
class Estimate:
    """An hourly estimate: one line per item, a total, and the table it came from."""

    lab: str
    region: str
    prices: PriceTable
    lines: list[tuple[str, float]] = field(default_factory=list)

    @property
    def hourly(self) -> float:
        """The total per hour."""
        return sum(cost for _, cost in self.lines)

    def summary(self) -> str:
        """What will be created and what it costs, for a person."""
        out = [f"Lab {self.lab} will create in AWS ({self.region}):"]
        width = max((len(text) for text, _ in self.lines), default=0)
        for text, cost in self.lines:
            out.append(f"  {text:<{width}}  ${cost:.4f}/hour")
        out.append(
            f"  {'total':<{width}}  ${self.hourly:.4f}/hour (about ${self.hourly * 24:.2f} a day if left running)"
        )
        note = f"Prices: {self.prices.region} on-demand list prices checked {self.prices.checked} ({self.prices.currency})"
        if self.region != self.prices.region:
            note += f"; {self.region} may cost more"
        out.append(note + ". Data processing and transfer are extra. `labkit teardown --yes` deletes it all.")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "lab": self.lab,
            "region": self.region,
            "price_region": self.prices.region,
            "prices_checked": self.prices.checked,
            "lines": [{"what": t, "hourly": c} for t, c in self.lines],
            "hourly": self.hourly,
        }


def plan_from_lab(meta: dict[str, Any], lab: str) -> list[PlanItem]:
    """The `[[aws.creates]]` entries of a lab's lab.toml; raises `LabkitError` for an unknown kind."""
    aws = meta.get("aws", {})
    items = []
    for raw in aws.get("creates", []) if isinstance(aws, dict) else []:
        kind = str(raw.get("kind", ""))
        if kind not in KINDS:
            raise LabkitError(f"lab {lab}: aws.creates has kind {kind!r}; known kinds: {', '.join(KINDS)}")
        items.append(
            PlanItem(
                kind=kind,
                count=int(raw.get("count", 1)),
                vcpu=float(raw.get("vcpu", 0)),
                memory_gib=float(raw.get("memory_gib", 0)),
                public_ip=bool(raw.get("public_ip", False)),
                zones=int(raw.get("zones", 2)),
            )
        )
    return items


def estimate(lab: str, plan: list[PlanItem], *, region: str, prices: PriceTable | None = None) -> Estimate:
    """Price a plan by the hour."""
    prices = prices or load_prices()
    result = Estimate(lab, region, prices)
    for item in plan:
        if item.kind == "load-balancer":
            hourly = item.count * (prices["alb_hour"] + prices["alb_lcu_hour"])
            hourly += item.count * item.zones * prices["public_ipv4_hour"]
            result.lines.append(
                (f"{item.count} application load balancer(s), 1 LCU, {item.zones} public IPv4 each", hourly)
            )
        elif item.kind == "fargate-task":
            hourly = item.count * (
                item.vcpu * prices["fargate_vcpu_hour"] + item.memory_gib * prices["fargate_gb_hour"]
            )
            text = f"{item.count} Fargate task(s) of {item.vcpu:g} vCPU and {item.memory_gib:g} GB"
            if item.public_ip:
                hourly += item.count * prices["public_ipv4_hour"]
                text += ", public IPv4 each"
            result.lines.append((text, hourly))
        elif item.kind == "nat-gateway":
            result.lines.append((f"{item.count} NAT gateway(s)", item.count * prices["nat_gateway_hour"]))
    return result


def preflight(
    lab: str,
    plan: list[PlanItem],
    *,
    region: str,
    confirm: bool | None = None,
    configured: bool = False,
    echo: Callable[[str], Any] = print,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
) -> Estimate:
    """Print the estimate and get a yes; raises `CostNotConfirmedError` when there is none.

    `confirm=True` or `configured=True` (the configuration's `aws.confirm_cost`) accept without
    asking; `confirm=False` refuses. Otherwise a terminal is asked; without one the answer is no.
    """
    result = estimate(lab, plan, region=region)
    echo(result.summary())
    if confirm is False:
        raise CostNotConfirmedError(lab, result.hourly, "declined")
    if confirm or configured:
        return result
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive:
        raise CostNotConfirmedError(lab, result.hourly, "there is no terminal to ask for confirmation")
    answer = (ask or input)("Create these resources in your AWS account? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise CostNotConfirmedError(lab, result.hourly, "not confirmed")
    return result
