"""The cost preflight: a dated price table, an hourly estimate of what a lab declares, confirmation."""

from __future__ import annotations

import pytest

from labkit.cost import CostNotConfirmedError, PlanItem, estimate, load_prices, plan_from_lab, preflight
from labkit.labs import load_lab


def test_the_price_table_is_dated_and_names_its_region() -> None:
    """The shipped table says where and when its prices were checked and has every price the estimate uses."""
    prices = load_prices()
    assert prices.region == "us-east-1"
    assert prices.checked.startswith("20")
    for name in (
        "alb_hour",
        "alb_lcu_hour",
        "fargate_vcpu_hour",
        "fargate_gb_hour",
        "nat_gateway_hour",
        "public_ipv4_hour",
    ):
        assert prices[name] > 0


def test_the_nginx_alb_lab_costs_its_alb_and_three_small_tasks_an_hour() -> None:
    """One ALB (1 LCU, 2 public IPs) and three 0.25 vCPU / 0.5 GB tasks with public IPs, from lab.toml."""
    lab = load_lab("nginx-alb")
    plan = plan_from_lab(lab.extra, lab.id)
    prices = load_prices()
    result = estimate(lab.id, plan, region="us-east-1", prices=prices)
    expected = (
        prices["alb_hour"] + prices["alb_lcu_hour"] + 2 * prices["public_ipv4_hour"]
        + 3 * (0.25 * prices["fargate_vcpu_hour"] + 0.5 * prices["fargate_gb_hour"] + prices["public_ipv4_hour"])
    )  # fmt: skip
    assert result.hourly == pytest.approx(expected)
    assert "checked" in result.summary()


def test_a_nat_gateway_is_priced_and_another_region_is_flagged() -> None:
    """A NAT gateway adds its hourly price; a region other than the table's is said to possibly cost more."""
    result = estimate("x", [PlanItem("nat-gateway", count=2)], region="eu-west-1")
    assert result.hourly == pytest.approx(2 * load_prices()["nat_gateway_hour"])
    assert "eu-west-1 may cost more" in result.summary()


def test_an_unknown_kind_in_lab_toml_is_an_error() -> None:
    """A lab that declares a kind the table cannot price is a definition error, not a silent zero."""
    with pytest.raises(Exception, match="known kinds"):
        plan_from_lab({"aws": {"creates": [{"kind": "redshift"}]}}, "bad")


def test_confirmation_paths() -> None:
    """A flag or the config accepts; no terminal refuses; a terminal asks and only 'y' accepts."""
    plan = [PlanItem("load-balancer")]
    lines: list[str] = []
    assert preflight("x", plan, region="us-east-1", confirm=True, echo=lines.append).hourly > 0
    assert preflight("x", plan, region="us-east-1", configured=True, echo=lines.append).hourly > 0
    with pytest.raises(CostNotConfirmedError, match="no terminal"):
        preflight("x", plan, region="us-east-1", interactive=False, echo=lines.append)
    with pytest.raises(CostNotConfirmedError, match="not confirmed"):
        preflight("x", plan, region="us-east-1", interactive=True, ask=lambda _: "", echo=lines.append)
    assert preflight("x", plan, region="us-east-1", interactive=True, ask=lambda _: "y", echo=lines.append)
    assert "$" in lines[0]
