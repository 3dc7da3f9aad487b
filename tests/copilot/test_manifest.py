"""Copilot manifests: each of Copilot's rules is an error naming the field; overrides merge as Copilot merges them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from labkit.copilot.manifest import (
    LOAD_BALANCED_WEB_SERVICE,
    ManifestError,
    apply_environment,
    aws_schedule,
    load_manifest,
    parse_duration,
    parse_manifest,
)

WEB: dict[str, Any] = {
    "name": "web",
    "type": "Load Balanced Web Service",
    "image": {"location": "nginxdemos/hello", "port": 80},
    "http": {"path": "/"},
}
WORKER: dict[str, Any] = {"name": "worker", "type": "Worker Service", "image": {"location": "busybox"}}
JOB: dict[str, Any] = {
    "name": "report",
    "type": "Scheduled Job",
    "image": {"location": "busybox"},
    "on": {"schedule": "@daily"},
}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(base))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def _error(data: dict[str, Any], env: str | None = None) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data, env=env)
    return caught.value


def test_a_minimal_load_balanced_web_service_is_valid() -> None:
    """A name, a type, an image with a port and an http path make a valid Load Balanced Web Service."""
    manifest = parse_manifest(WEB)
    assert (manifest.name, manifest.type, manifest.image, manifest.port) == (
        "web",
        LOAD_BALANCED_WEB_SERVICE,
        "nginxdemos/hello",
        80,
    )
    assert (manifest.cpu, manifest.memory, manifest.count.desired) == (256, 512, 1)
    assert manifest.path_patterns == ["/*"]


def test_the_name_is_required() -> None:
    """A manifest without a name says `name` must be specified."""
    error = _error(_with(WEB, name=None))
    assert error.field == "name"
    assert '"name" must be specified' in str(error)


@pytest.mark.parametrize("name", ["Web", "1web", "web--api", "web-", "w"])
def test_the_name_follows_copilots_format(name: str) -> None:
    """Upper case, a leading digit, consecutive or trailing hyphens and one letter are refused with Copilot's message."""
    error = _error(_with(WEB, name=name))
    assert error.field == "name"
    assert "must start with a letter, contain only lower-case letters, numbers, and hyphens" in str(error)


def test_the_type_is_required_and_known() -> None:
    """A missing type, and a type Copilot does not have, name the `type` field."""
    assert _error(_with(WEB, type=None)).field == "type"
    error = _error(_with(WEB, type="Web Service"))
    assert error.field == "type"
    assert "invalid manifest type: Web Service" in str(error)


def test_app_runner_and_static_site_types_are_refused_with_the_reason() -> None:
    """A Request-Driven Web Service needs App Runner, which the sandbox does not emulate."""
    error = _error(_with(WEB, type="Request-Driven Web Service"))
    assert error.field == "type"
    assert "App Runner" in str(error)


def test_image_needs_exactly_one_of_build_and_location() -> None:
    """Neither or both of `image.build` and `image.location` is Copilot's mutual-exclusion error."""
    neither = _error(_with(WEB, image__location=None))
    both = _error(_with(WEB, image__build="Dockerfile"))
    for error in (neither, both):
        assert error.field == "image"
        assert 'must specify one of "build" and "location"' in str(error)


def test_a_load_balanced_web_service_needs_a_port() -> None:
    """`image.port` is required for a Load Balanced Web Service and must be 1 to 65535."""
    assert _error(_with(WEB, image__port=None)).field == "image.port"
    error = _error(_with(WEB, image__port=70000))
    assert error.field == "image.port"
    assert "value must be in range 1-65535" in str(error)


def test_a_load_balanced_web_service_needs_http_and_a_path() -> None:
    """Without `http` it is Copilot's "http or nlb" error; without `http.path`, "path" must be specified."""
    assert 'at least one of "http" or "nlb"' in str(_error(_with(WEB, http=None)))
    error = _error(_with(WEB, http__path=None))
    assert error.field == "http.path"
    assert '"path" must be specified' in str(error)


def test_http_path_uses_only_load_balancer_path_characters() -> None:
    """A path with a character an ALB path pattern cannot hold names `http.path`."""
    assert _error(_with(WEB, http__path="api<v1>")).field == "http.path"


def test_a_named_path_becomes_two_path_patterns() -> None:
    """`http.path: api` routes /api and /api/*, as Copilot's listener rule does."""
    assert parse_manifest(_with(WEB, http__path="api")).path_patterns == ["/api", "/api/*"]
    assert parse_manifest(_with(WEB, http__path="/api/")).path_patterns == ["/api", "/api/*"]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("interval", "2s", "5s to 300s"),
        ("interval", "ten seconds", "Go duration"),
        ("timeout", "200s", "2s to 120s"),
        ("healthy_threshold", 1, "2 to 10"),
        ("unhealthy_threshold", 11, "2 to 10"),
        ("success_codes", "600", "200 to 499"),
        ("success_codes", "2xx", "'200-299'"),
        ("path", "", "1 to 1024"),
        ("grace_period", "1.5s", "smaller than a second"),
    ],
)
def test_health_check_fields_are_checked_with_the_target_groups_limits(
    key: str, value: Any, problem: str
) -> None:
    """Each http.healthcheck field out of the ELB API's range is an error naming `http.healthcheck.<field>`."""
    error = _error(_with(WEB, http__healthcheck={key: value}))
    assert error.field == f"http.healthcheck.{key}"
    assert problem in str(error)
    assert str(error).startswith(f"http.healthcheck.{key}: ")


def test_deregistration_delay_and_stickiness() -> None:
    """`http.deregistration_delay` is 0s to 3600s (Copilot's default 60s); `http.stickiness` is a boolean."""
    check = parse_manifest(_with(WEB, http__deregistration_delay="30s", http__stickiness=True)).healthcheck
    assert check is not None
    assert (check.deregistration_delay, check.stickiness) == (30, True)
    assert parse_manifest(WEB).healthcheck.deregistration_delay == 60  # type: ignore[union-attr]
    assert _error(_with(WEB, http__deregistration_delay="2h")).field == "http.deregistration_delay"
    assert _error(_with(WEB, http__stickiness="yes")).field == "http.stickiness"


def test_the_health_check_timeout_must_be_shorter_than_the_interval() -> None:
    """A timeout of 10s with an interval of 10s is refused on `http.healthcheck.timeout`."""
    error = _error(_with(WEB, http__healthcheck={"interval": "10s", "timeout": "10s"}))
    assert error.field == "http.healthcheck.timeout"
    assert "smaller than the interval" in str(error)


def test_health_check_values_are_converted_to_seconds() -> None:
    """Durations become the target group's seconds and the grace period defaults to 60 s."""
    check = parse_manifest(
        _with(WEB, http__healthcheck={"path": "/health", "interval": "1m", "timeout": "5s"})
    ).healthcheck
    assert check is not None
    assert (check.path, check.interval, check.timeout, check.grace_period) == ("/health", 60, 5, 60)
    assert parse_manifest(_with(WEB, http__healthcheck="/ping")).healthcheck.path == "/ping"  # type: ignore[union-attr]


@pytest.mark.parametrize(("cpu", "memory"), [(256, 4096), (1024, 1024), (300, 512)])
def test_cpu_and_memory_must_be_a_fargate_size(cpu: int, memory: int) -> None:
    """A cpu/memory pair Fargate does not offer names the field that was given."""
    error = _error(_with(WEB, cpu=cpu, memory=memory))
    assert error.field == "memory"
    assert "not a Fargate task size" in str(error)


def test_count_is_a_number_or_a_range() -> None:
    """`count: 3` is three tasks; a negative count names `count`."""
    assert parse_manifest(_with(WEB, count=3)).count.desired == 3
    assert _error(_with(WEB, count=-1)).field == "count"


def test_a_range_needs_a_scaling_target_and_a_target_needs_a_range() -> None:
    """Copilot's two combination rules: range without targets, and targets without range."""
    no_target = _error(_with(WEB, count={"range": "1-10"}))
    assert no_target.field == "count"
    assert 'must specify at least one of "cpu_percentage"' in str(no_target)
    no_range = _error(_with(WEB, count={"cpu_percentage": 70}))
    assert no_range.field == "count.range"
    assert '"range" must be specified' in str(no_range)


def test_a_range_is_min_dash_max_with_min_not_above_max() -> None:
    """A malformed band and min above max are Copilot's range errors."""
    assert "valid format is ${min}-${max}" in str(
        _error(_with(WEB, count={"range": "1to10", "cpu_percentage": 50}))
    )
    assert "min value 5 cannot be greater than max value 2" in str(
        _error(_with(WEB, count={"range": {"min": 5, "max": 2}, "cpu_percentage": 50}))
    )
    assert '"min/max" must be specified' in str(
        _error(_with(WEB, count={"range": {"min": 1}, "cpu_percentage": 50}))
    )


def test_percentages_are_zero_to_one_hundred() -> None:
    """cpu_percentage 150 names `count.cpu_percentage` with Copilot's message."""
    error = _error(_with(WEB, count={"range": "1-4", "cpu_percentage": 150}))
    assert error.field == "count.cpu_percentage"
    assert "must be an integer from 0 to 100" in str(error)


def test_scaling_fields_depend_on_the_workload_type() -> None:
    """A Worker Service cannot scale on requests; a Scheduled Job has no count at all."""
    error = _error(_with(WORKER, count={"range": "1-4", "requests": 100}))
    assert error.field == "count"
    assert 'autoscaling field "requests" is invalid with workload type Worker Service' in str(error)
    assert "cannot have autoscaling options" in str(_error(_with(JOB, count=2)))


def test_a_range_with_all_targets_and_spot_from() -> None:
    """A full range sets min, max, spot_from, every target and cooldowns; the desired count starts at min."""
    count = parse_manifest(
        _with(
            WEB,
            count={
                "range": {"min": 2, "max": 8, "spot_from": 4},
                "cpu_percentage": 70,
                "memory_percentage": {"value": 80},
                "requests": 1000,
                "response_time": "2s",
                "cooldown": {"in": "3m", "out": "30s"},
            },
        )
    ).count
    assert (count.desired, count.minimum, count.maximum, count.spot_from) == (2, 2, 8, 4)
    assert (count.cpu_percentage, count.memory_percentage, count.requests, count.response_time) == (
        70,
        80,
        1000,
        2,
    )
    assert (count.scale_in_cooldown, count.scale_out_cooldown) == (180, 30)


def test_spot_excludes_range() -> None:
    """`count.spot` with a range is Copilot's mutual-exclusion error."""
    assert 'must specify one, not both, of "spot"' in str(
        _error(_with(WEB, count={"spot": 2, "range": "1-2"}))
    )


def test_variables_are_scalars_with_variable_names() -> None:
    """Variables become strings; a list value or a bad name names the variable."""
    manifest = parse_manifest(_with(WEB, variables={"LOG_LEVEL": "info", "DEBUG": True, "WORKERS": 4}))
    assert manifest.variables == {"LOG_LEVEL": "info", "DEBUG": "true", "WORKERS": "4"}
    assert _error(_with(WEB, variables={"LIST": [1, 2]})).field == "variables.LIST"
    assert _error(_with(WEB, variables={"1BAD": "x"})).field == "variables"
    imported = parse_manifest(_with(WEB, variables={"TABLE": {"from_cfn": "demo-test-Table"}}))
    assert imported.variable_imports == {"TABLE": "demo-test-Table"}
    assert _error(_with(WEB, variables={"TABLE": {"from": "x"}})).field == "variables.TABLE"


def test_secrets_are_ssm_names_secrets_manager_or_cloudformation_exports() -> None:
    """SSM names and ARNs, `secretsmanager` names and `from_cfn` exports are read; anything else names the secret."""
    manifest = parse_manifest(
        _with(
            WEB,
            secrets={
                "DB": "/demo/test/db",
                "TOKEN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf",
                "KEY": {"secretsmanager": "demo/key"},
                "EXPORTED": {"from_cfn": "demo-test-Secret"},
            },
        )
    )
    assert {k: v["kind"] for k, v in manifest.secrets.items()} == {
        "DB": "ssm",
        "TOKEN": "secretsmanager",
        "KEY": "secretsmanager",
        "EXPORTED": "from_cfn",
    }
    assert _error(_with(WEB, secrets={"DB": "not a name!"})).field == "secrets.DB"
    assert _error(_with(WEB, secrets={"DB": {"vault": "x"}})).field == "secrets.DB"
    assert (
        _error(_with(WEB, secrets={"DB": {"secretsmanager": "bad name!"}})).field
        == "secrets.DB.secretsmanager"
    )


def test_worker_topics_need_a_valid_name_and_service() -> None:
    """A subscribed topic needs a name of letters, numbers, _ and -, and a service name."""
    good = parse_manifest(_with(WORKER, subscribe={"topics": [{"name": "orders", "service": "api"}]}))
    assert [(t.name, t.service) for t in good.subscribe] == [("orders", "api")]
    bad_name = _error(_with(WORKER, subscribe={"topics": [{"name": "or ders", "service": "api"}]}))
    assert bad_name.field == "subscribe.topics[0].name"
    assert "topic names can only contain" in str(bad_name)
    assert (
        _error(_with(WORKER, subscribe={"topics": [{"name": "orders"}]})).field
        == "subscribe.topics[0].service"
    )


def test_a_scheduled_job_needs_a_schedule() -> None:
    """Without `on`, or `on.schedule`, the field is named."""
    assert _error(_with(JOB, on=None)).field == "on"
    assert _error(_with(JOB, on={})).field == "on.schedule"


@pytest.mark.parametrize(
    ("schedule", "expression"),
    [
        ("@hourly", "cron(0 * * * ? *)"),
        ("@daily", "cron(0 0 * * ? *)"),
        ("@weekly", "cron(0 0 ? * 1 *)"),
        ("@every 1h", "rate(60 minutes)"),
        ("@every 1m", "rate(1 minute)"),
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
        ("*/15 * * * *", "cron(*/15 * * * ? *)"),
        ("0 0 1 * *", "cron(0 0 1 * ? *)"),
        ("rate(5 minutes)", "rate(5 minutes)"),
    ],
)
def test_schedules_become_eventbridge_expressions(schedule: str, expression: str) -> None:
    """Presets, @every and standard cron convert as Copilot's awsSchedule converts them."""
    assert aws_schedule(schedule) == expression


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("@every 30s", "1m0s or greater"),
        ("@every 90s", "whole number of minutes"),
        ("@every soon", "valid Go duration"),
        ("@fortnightly", "valid cron expression"),
        ("61 * * * *", "valid cron expression"),
        ("0 0 1 * 1", "both DOW and DOM"),
    ],
)
def test_bad_schedules_name_on_schedule(schedule: str, problem: str) -> None:
    """A schedule Copilot would refuse is an error on `on.schedule` with Copilot's reason."""
    error = _error(_with(JOB, on={"schedule": schedule}))
    assert error.field == "on.schedule"
    assert problem in str(error)


def test_on_is_a_key_not_a_boolean() -> None:
    """YAML 1.1 would read `on:` as true; manifests are read as Copilot reads them."""
    manifest = load_manifest(
        "name: report\ntype: Scheduled Job\nimage:\n  location: busybox\non:\n  schedule: '@hourly'\n"
    )
    assert manifest.aws_schedule == "cron(0 * * * ? *)"


def test_environment_overrides_merge_maps_and_replace_the_rest() -> None:
    """Maps merge key by key; scalars, lists and a map replacing a number are replaced; null keeps the base."""
    data = _with(
        WEB,
        count=1,
        variables={"LOG_LEVEL": "info", "REGION": "eu"},
        http__healthcheck={"path": "/health", "interval": "10s"},
        environments={
            "prod": {
                "count": {"range": "2-10", "cpu_percentage": 70},
                "variables": {"LOG_LEVEL": "warn"},
                "http": {"healthcheck": {"interval": "30s"}},
                "cpu": 512,
                "memory": 1024,
                "image": {"port": None},
            }
        },
    )
    merged = apply_environment(data, "prod")
    assert merged["variables"] == {"LOG_LEVEL": "warn", "REGION": "eu"}
    assert merged["http"]["healthcheck"] == {"path": "/health", "interval": "30s"}
    assert merged["count"] == {"range": "2-10", "cpu_percentage": 70}
    assert "environments" not in merged
    manifest = parse_manifest(data, env="prod")
    assert (manifest.cpu, manifest.memory, manifest.count.minimum, manifest.count.maximum) == (
        512,
        1024,
        2,
        10,
    )
    assert manifest.port == 80  # a null override keeps the base value
    assert manifest.healthcheck is not None
    assert manifest.healthcheck.interval == 30
    assert parse_manifest(data, env="test").count.desired == 1


def test_an_override_of_location_unsets_the_base_build_and_back() -> None:
    """Copilot's image transformer: an environment's `image.location` replaces the base `image.build`."""
    built = _with(
        WEB,
        image={"build": "Dockerfile", "port": 80},
        environments={"prod": {"image": {"location": "nginx"}}},
    )
    prod = parse_manifest(built, env="prod")
    assert (prod.image, prod.build, prod.port) == ("nginx", None, 80)
    assert parse_manifest(built).build == "Dockerfile"
    located = _with(WEB, environments={"prod": {"image": {"build": "Dockerfile"}}})
    assert parse_manifest(located, env="prod").image is None
    both = _with(WEB, environments={"prod": {"image": {"build": "Dockerfile", "location": "nginx"}}})
    error = _error(both, env="prod")
    assert error.field == "environments.prod.image"
    assert "mutually exclusive" in str(error)


def test_an_override_of_spot_unsets_the_base_autoscaling() -> None:
    """Copilot's advanced count transformer: `count.spot` in an override drops the inherited range and targets."""
    data = _with(
        WEB, count={"range": "1-4", "cpu_percentage": 70}, environments={"test": {"count": {"spot": 2}}}
    )
    count = parse_manifest(data, env="test").count
    assert (count.desired, count.autoscaling) == (2, False)


def test_an_override_can_break_a_rule_and_is_reported_for_that_environment() -> None:
    """An override that makes an invalid Fargate size is caught when validating for that environment only."""
    data = _with(WEB, environments={"prod": {"memory": 8192}})
    parse_manifest(data)
    assert _error(data, env="prod").field == "memory"


def test_environment_names_follow_copilots_format() -> None:
    """An `environments` key Copilot would refuse as an environment name is an error."""
    assert _error(_with(WEB, environments={"Prod": {"count": 2}})).field == "environments"


def test_load_manifest_names_the_file(tmp_path: Path) -> None:
    """An error from a file starts with the file's path; a missing file and bad YAML are errors too."""
    path = tmp_path / "manifest.yml"
    path.write_text(yaml.safe_dump(_with(WEB, http__healthcheck={"interval": "1s"})))
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert str(caught.value).startswith(f"{path}: http.healthcheck.interval: ")
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "missing.yml")
    path.write_text("name: [web\n")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(path)


def test_go_durations() -> None:
    """Durations read as Go reads them: 1h30m is 5400 seconds, 500ms half a second."""
    assert parse_duration("1h30m") == 5400
    assert parse_duration("500ms") == 0.5
    with pytest.raises(ValueError, match="Go duration"):
        parse_duration("10")
