"""Copilot manifests: read, merge per-environment overrides, validate with Copilot's rules.

The rules are Copilot's own (aws/copilot-cli, `internal/pkg/manifest/validate.go`,
`internal/pkg/cli/validate.go`, `internal/pkg/deploy/cloudformation/stack/scheduled_job.go`),
with Copilot's messages where it has one. Where Copilot leaves a check to CloudFormation at deploy
time (health check ranges, Fargate sizes) the rule is the AWS API's (botocore's ELBv2 model, the
ECS Fargate size table in `labkit.ecs.validation`), so the mistake is found before deploying, as
`copilot svc deploy` finds it when the stack update fails.

Every error is a `ManifestError` that names the field (`http.healthcheck.interval: ...`).

Read and checked: `name`, `type`, `image` (`build`/`location`, `port`), `http` (`path`,
`healthcheck`, `deregistration_delay`, `stickiness`), `cpu`, `memory`, `count`, `variables`, `secrets`, `environments`,
`subscribe.topics`, `on.schedule`, `retries`, `timeout`. Other fields (`sidecars`, `storage`,
`logging`, `network`, `platform`, `exec`, `deployment`, `publish`, `taskdef_overrides`...) are
read and ignored, as Copilot ignores fields it does not know.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from labkit.ecs.validation import fargate_size_allowed
from labkit.errors import LabkitError

__all__ = [
    "BACKEND_SERVICE",
    "JOB_TYPES",
    "LOAD_BALANCED_WEB_SERVICE",
    "SCHEDULED_JOB",
    "SERVICE_TYPES",
    "WORKER_SERVICE",
    "Count",
    "HealthCheck",
    "Manifest",
    "ManifestError",
    "TopicSubscription",
    "apply_environment",
    "aws_schedule",
    "load_manifest",
    "parse_duration",
    "parse_manifest",
    "read_manifest",
    "validate_name",
]

LOAD_BALANCED_WEB_SERVICE = "Load Balanced Web Service"
BACKEND_SERVICE = "Backend Service"
WORKER_SERVICE = "Worker Service"
SCHEDULED_JOB = "Scheduled Job"
SERVICE_TYPES = (LOAD_BALANCED_WEB_SERVICE, BACKEND_SERVICE, WORKER_SERVICE)
JOB_TYPES = (SCHEDULED_JOB,)
# Copilot types that need App Runner or S3/CloudFront, which this sandbox does not model.
_UNSUPPORTED_TYPES = ("Request-Driven Web Service", "Static Site")

# internal/pkg/cli/validate.go: errValueBadFormat and isCorrectFormat.
_NAME_FORMAT = re.compile(r"^[a-z][a-z0-9\-]+$")
_PUNCTUATION = re.compile(r"[\.\-]{2,}")
_TRAILING_PUNCTUATION = re.compile(r"[\-\.]$")
_BAD_NAME = (
    "value must start with a letter, contain only lower-case letters, numbers, and hyphens, "
    "and have no consecutive or trailing hyphen"
)
# internal/pkg/manifest/validate.go: awsSNSTopicRegexp; intRangeBandRegexp.
_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9_-]*$")
_RANGE_BAND = re.compile(r"^(\d+)-(\d+)$")
# Go's time.ParseDuration: a sequence of decimal numbers, each with a unit.
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# Secret sources: an SSM parameter name (PutParameter's pattern, with paths) or ARN, a Secrets
# Manager secret name (CreateSecret allows letters, digits and /_+=.@-) or ARN.
_SSM_NAME = re.compile(r"^[a-zA-Z0-9_.\-/]{1,2048}$")
_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/.+$")
_SECRETSMANAGER_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")
_SECRETSMANAGER_NAME = re.compile(r"^[A-Za-z0-9/_+=.@\-]+(:[^:]*){0,3}$")
# Environment variable names ECS passes to a container: no rule beyond a non-empty string; the
# shell convention keeps learners out of trouble, and Copilot's own variables follow it.
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# ALB path-pattern values (ELB user guide, "Path conditions"): at most 128 characters of
# A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?
_PATH_CHARS = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]*$")

# Task sizes Copilot writes when the manifest leaves them out (its `copilot init` defaults).
DEFAULT_CPU = 256
DEFAULT_MEMORY = 512
# Copilot's HTTP health check grace period when `grace_period` is not given.
DEFAULT_GRACE_PERIOD = 60
# Copilot's target group deregistration delay (ECS's default is 300 s).
DEFAULT_DEREGISTRATION_DELAY = 60
# The autoscaling fields each workload type accepts (AdvancedCount.validScalingFields).
_SCALING_FIELDS = {
    LOAD_BALANCED_WEB_SERVICE: ("cpu_percentage", "memory_percentage", "requests", "response_time"),
    BACKEND_SERVICE: ("cpu_percentage", "memory_percentage", "requests", "response_time"),
    WORKER_SERVICE: ("cpu_percentage", "memory_percentage", "queue_delay"),
}
_ALL_SCALING_FIELDS = ("cpu_percentage", "memory_percentage", "requests", "response_time", "queue_delay")


class ManifestError(LabkitError):
    """A Copilot manifest breaks one of Copilot's rules; `field` names where (`http.path`)."""

    exit_code = 2

    def __init__(self, field: str, problem: str, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {problem}" if field else f"{where}{problem}")
        self.field = field
        self.problem = problem
        self.source = source


@dataclass(frozen=True)
class HealthCheck:
    """The target group's HTTP health check, in the ELB API's units (seconds); None: ELB's default."""

    path: str = "/"
    port: int | None = None
    success_codes: str = "200"
    healthy_threshold: int | None = None
    unhealthy_threshold: int | None = None
    interval: int | None = None
    timeout: int | None = None
    grace_period: int = DEFAULT_GRACE_PERIOD
    #: `http.deregistration_delay` and `http.stickiness`, target group attributes.
    deregistration_delay: int = 60
    stickiness: bool = False


@dataclass(frozen=True)
class Count:
    """How many tasks: a fixed `desired` count, or a range with target-tracking scaling."""

    desired: int = 1
    minimum: int | None = None
    maximum: int | None = None
    spot_from: int | None = None
    cpu_percentage: float | None = None
    memory_percentage: float | None = None
    requests: float | None = None
    response_time: float | None = None  # seconds
    scale_in_cooldown: int = 120
    scale_out_cooldown: int = 60

    @property
    def autoscaling(self) -> bool:
        """True when the service scales between `minimum` and `maximum`."""
        return self.minimum is not None and self.maximum is not None


@dataclass(frozen=True)
class TopicSubscription:
    """A Worker Service's subscription to another service's SNS topic."""

    name: str
    service: str


@dataclass(frozen=True)
class Manifest:
    """A validated workload manifest, with one environment's overrides already applied."""

    name: str
    type: str
    image: str | None
    build: str | dict[str, Any] | None
    port: int | None
    cpu: int
    memory: int
    count: Count
    http_path: str | None = None
    healthcheck: HealthCheck | None = None
    variables: dict[str, str] = field(default_factory=dict)
    #: Variables whose value is a CloudFormation export's (`NAME: {from_cfn: EXPORT}`).
    variable_imports: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    subscribe: tuple[TopicSubscription, ...] = ()
    schedule: str | None = None
    environment: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_job(self) -> bool:
        """True for a Scheduled Job (a task on a schedule, no ECS service)."""
        return self.type in JOB_TYPES

    @property
    def rule_path(self) -> str | None:
        """The listener rule's path without its leading slash; "/" for the root."""
        if self.http_path is None:
            return None
        stripped = self.http_path.strip("/")
        return stripped or "/"

    @property
    def path_patterns(self) -> list[str]:
        """The listener rule's path-pattern values, as Copilot's template writes them."""
        rule = self.rule_path
        if rule is None:
            return []
        if rule == "/":
            return ["/*"]
        return [f"/{rule}", f"/{rule}/*"]

    @property
    def aws_schedule(self) -> str | None:
        """The EventBridge schedule expression of a Scheduled Job."""
        return aws_schedule(self.schedule) if self.schedule is not None else None


# -- YAML ---------------------------------------------------------------------------------------


class _CopilotLoader(yaml.SafeLoader):
    """YAML as Copilot reads it (go-yaml v3): `on`, `off`, `yes`, `no` are strings, not booleans."""


_CopilotLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CopilotLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_manifest(text: str, source: str | None = None) -> dict[str, Any]:
    """Parse manifest YAML into a mapping; raises `ManifestError` for bad YAML or a non-mapping."""
    try:
        data = yaml.load(text, Loader=_CopilotLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError("", f"the manifest is not valid YAML{where}: {problem}", source) from None
    if not isinstance(data, dict):
        raise ManifestError("", "a manifest is a YAML mapping (name: ..., type: ...)", source)
    return data


def load_manifest(manifest: str | Path, env: str | None = None) -> Manifest:
    """Read a manifest (a path, or YAML text), apply `env`'s overrides and validate it.

    Raises `ManifestError` naming the field for the first rule broken (Copilot reports one at a
    time too), or for a file that cannot be read.
    """
    source: str | None = None
    if isinstance(manifest, Path) or (isinstance(manifest, str) and "\n" not in manifest):
        path = Path(manifest)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ManifestError("", f"cannot read the manifest: {exc.strerror or exc}", source) from None
    else:
        text = str(manifest)
    return parse_manifest(read_manifest(text, source), env=env, source=source)


# -- per-environment overrides ------------------------------------------------------------------


def _merge(base: Any, override: Any) -> Any:
    """Copilot's ApplyEnv: maps merge key by key, anything else (lists, scalars, a map replacing a
    scalar) is replaced by the override, and a null override leaves the base value."""
    if override is None:
        return copy.deepcopy(base)
    if isinstance(base, dict) and isinstance(override, dict):
        merged = {key: copy.deepcopy(value) for key, value in base.items()}
        for key, value in override.items():
            if value is None:
                continue
            merged[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def apply_environment(data: dict[str, Any], env: str | None) -> dict[str, Any]:
    """Return the manifest with `environments.<env>` merged in, as `copilot svc deploy --env` does."""
    base = {key: value for key, value in data.items() if key != "environments"}
    if env is None:
        return copy.deepcopy(base)
    overrides = (data.get("environments") or {}).get(env)
    if overrides is None:
        return copy.deepcopy(base)
    if not isinstance(overrides, dict):
        raise ManifestError(f"environments.{env}", "an environment override is a mapping of fields")
    merged: dict[str, Any] = _merge(base, overrides)
    _exclusive_overrides(merged, overrides, env)
    return merged


def _exclusive_overrides(merged: dict[str, Any], overrides: dict[str, Any], env: str) -> None:
    """Copilot's imageTransformer and advancedCountTransformer (manifest/transform.go): setting one
    of two exclusive fields in an override unsets the other inherited from the base."""
    image = overrides.get("image")
    if isinstance(image, dict) and isinstance(merged.get("image"), dict):
        if image.get("build") is not None and image.get("location") is not None:
            raise ManifestError(
                f"environments.{env}.image",
                "invalid manifest: image.build is mutually exclusive with image.location "
                "and shouldn't be specified at the same time",
            )
        if image.get("build") is not None:
            merged["image"].pop("location", None)
        if image.get("location") is not None:
            merged["image"].pop("build", None)
    count = overrides.get("count")
    if isinstance(count, dict) and isinstance(merged.get("count"), dict):
        if count.get("spot") is not None:
            for key in ("range", "cooldown", *_ALL_SCALING_FIELDS):
                merged["count"].pop(key, None)
        if any(count.get(key) is not None for key in ("range", *_ALL_SCALING_FIELDS)):
            merged["count"].pop("spot", None)


# -- the rules ----------------------------------------------------------------------------------


def validate_name(value: Any, what: str = "service") -> str:
    """Copilot's basicNameValidation; returns the name or raises `ValueError` with its message."""
    problem = None
    if not isinstance(value, str):
        problem = "value must be a string"
    elif value == "":
        problem = "value must not be empty"
    elif len(value) > 255:
        problem = "value must not exceed 255 characters"
    elif not _NAME_FORMAT.match(value) or _PUNCTUATION.search(value) or _TRAILING_PUNCTUATION.search(value):
        problem = _BAD_NAME
    if problem is not None:
        raise ValueError(f"{what} name {value} is invalid: {problem}")
    return str(value)


def parse_duration(value: Any) -> float:
    """A Go duration string (`10s`, `1m30s`, `500ms`) in seconds; raises `ValueError`."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} must be a valid Go duration string (example: 1h30m)")
    text = value.strip()
    if text == "0":
        return 0.0
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"{value!r} must be a valid Go duration string (example: 1h30m)")
    return total


def _int(value: Any, field_name: str, source: str | None, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(field_name, f"{value!r} must be an integer", source)
    if minimum is not None and value < minimum:
        raise ManifestError(field_name, f"{value} must be {minimum} or greater", source)
    return value


def _seconds(value: Any, field_name: str, source: str | None) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ManifestError(field_name, str(exc), source) from None
    return seconds


def _whole_seconds(value: Any, field_name: str, source: str | None) -> int:
    seconds = _seconds(value, field_name, source)
    if seconds != int(seconds):
        raise ManifestError(field_name, "duration cannot be in units smaller than a second", source)
    return int(seconds)


def _mapping(value: Any, field_name: str, source: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(field_name, f"must be a mapping, not {type(value).__name__}", source)
    return value


def parse_manifest(data: dict[str, Any], env: str | None = None, source: str | None = None) -> Manifest:
    """Apply `env`'s overrides to a parsed manifest and validate it; raises `ManifestError`."""
    environments = data.get("environments")
    if environments is not None:
        for env_name in _mapping(environments, "environments", source):
            try:
                validate_name(env_name, "environment")
            except ValueError as exc:
                raise ManifestError("environments", str(exc), source) from None
    merged = apply_environment(data, env)

    kind = merged.get("type")
    if kind is None:
        raise ManifestError("type", '"type" must be specified', source)
    if kind in _UNSUPPORTED_TYPES:
        raise ManifestError(
            "type",
            f"{kind} needs {'App Runner' if kind.startswith('Request') else 'S3 and CloudFront'}, "
            f"which the sandbox does not emulate; labkit deploys {', '.join(SERVICE_TYPES + JOB_TYPES)}",
            source,
        )
    if kind not in SERVICE_TYPES + JOB_TYPES:
        raise ManifestError(
            "type",
            f"invalid manifest type: {kind}; must be one of {', '.join(SERVICE_TYPES + JOB_TYPES)}",
            source,
        )
    if merged.get("name") is None:
        raise ManifestError("name", '"name" must be specified', source)
    try:
        name = validate_name(merged["name"], "job" if kind in JOB_TYPES else "service")
    except ValueError as exc:
        raise ManifestError("name", str(exc), source) from None

    image, build, port = _image(merged, kind, source)
    http_path, healthcheck = _http(merged, kind, source)
    cpu, memory = _task_size(merged, source)
    count = _count(merged, kind, http_path is not None, source)
    variables, variable_imports = _variables(merged.get("variables"), source)
    secrets = _secrets(merged.get("secrets"), source)
    subscribe = _subscribe(merged, kind, source)
    schedule = _schedule(merged, kind, source)
    return Manifest(
        name=name,
        type=kind,
        image=image,
        build=build,
        port=port,
        cpu=cpu,
        memory=memory,
        count=count,
        http_path=http_path,
        healthcheck=healthcheck,
        variables=variables,
        variable_imports=variable_imports,
        secrets=secrets,
        subscribe=subscribe,
        schedule=schedule,
        environment=env,
        raw=merged,
    )


def _image(
    data: dict[str, Any], kind: str, source: str | None
) -> tuple[str | None, str | dict[str, Any] | None, int | None]:
    raw = data.get("image")
    if raw is None:
        raise ManifestError("image", '"image" must be specified', source)
    image = _mapping(raw, "image", source)
    build, location = image.get("build"), image.get("location")
    # Image.validate: exactly one of the two (errFieldMutualExclusive with mustExist).
    if (build is None) == (location is None):
        which = "neither is given" if build is None else "both are given"
        raise ManifestError("image", f'must specify one of "build" and "location" ({which})', source)
    if build is not None and not isinstance(build, (str, dict)):
        raise ManifestError(
            "image.build", "must be a Dockerfile path or a mapping (dockerfile, context)", source
        )
    if isinstance(build, dict) and not (build.get("dockerfile") or build.get("context")):
        raise ManifestError("image.build", 'must specify "dockerfile" or "context"', source)
    if location is not None and (not isinstance(location, str) or not location.strip()):
        raise ManifestError("image.location", "must be an image reference such as nginxdemos/hello", source)
    port = image.get("port")
    if port is None:
        if kind == LOAD_BALANCED_WEB_SERVICE:
            raise ManifestError("image.port", '"port" must be specified', source)
        return location, build, None
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ManifestError("image.port", f"port {port} is invalid: value must be in range 1-65535", source)
    return location, build, port


def _http(data: dict[str, Any], kind: str, source: str | None) -> tuple[str | None, HealthCheck | None]:
    raw = data.get("http")
    if kind == LOAD_BALANCED_WEB_SERVICE:
        if raw is None or raw is False:
            raise ManifestError("http", 'must specify at least one of "http" or "nlb"', source)
    elif raw is None or raw is False:
        return None, None
    elif kind == BACKEND_SERVICE:
        raise ManifestError(
            "http",
            "a Backend Service with http routes through the environment's internal load balancer, "
            "which labkit does not deploy; leave http out",
            source,
        )
    else:
        raise ManifestError("http", f"a {kind} has no http section", source)
    http = _mapping(raw, "http", source)
    path = http.get("path")
    if path is None:
        raise ManifestError("http.path", '"path" must be specified', source)
    if not isinstance(path, str) or not path:
        raise ManifestError("http.path", "must be a path such as '/' or 'api'", source)
    patterns = ["/*"] if path.strip("/") == "" else [f"/{path.strip('/')}/*"]
    if len(patterns[0]) > 128 or not _PATH_CHARS.match(path):
        raise ManifestError(
            "http.path",
            f"{path!r}: a load balancer path pattern has at most 128 characters of "
            "A-Z, a-z, 0-9, _ - . $ / ~ \" ' @ : + & * ?",
            source,
        )
    check = _healthcheck(http.get("healthcheck"), source)
    delay = DEFAULT_DEREGISTRATION_DELAY
    if http.get("deregistration_delay") is not None:
        delay = _whole_seconds(http["deregistration_delay"], "http.deregistration_delay", source)
        if not 0 <= delay <= 3600:
            raise ManifestError(
                "http.deregistration_delay",
                f"{http['deregistration_delay']} is out of range: 0s to 3600s",
                source,
            )
    stickiness = http.get("stickiness", False)
    if not isinstance(stickiness, bool):
        raise ManifestError("http.stickiness", "must be true or false", source)
    return path, replace(check, deregistration_delay=delay, stickiness=stickiness)


def _healthcheck(raw: Any, source: str | None) -> HealthCheck:
    if raw is None:
        return HealthCheck()
    if isinstance(raw, str):
        return HealthCheck(path=raw if raw.startswith("/") else f"/{raw}")
    check = _mapping(raw, "http.healthcheck", source)
    prefix = "http.healthcheck"
    path = check.get("path", "/")
    if not isinstance(path, str) or not 1 <= len(path) <= 1024:
        raise ManifestError(f"{prefix}.path", "must be a path of 1 to 1024 characters", source)
    port = check.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        raise ManifestError(
            f"{prefix}.port", f"port {port} is invalid: value must be in range 1-65535", source
        )
    codes = str(check.get("success_codes", "200"))
    _success_codes(codes, f"{prefix}.success_codes", source)
    thresholds: dict[str, int | None] = {}
    for key in ("healthy_threshold", "unhealthy_threshold"):
        value = check.get(key)
        if value is not None:
            value = _int(value, f"{prefix}.{key}", source)
            if not 2 <= value <= 10:
                raise ManifestError(
                    f"{prefix}.{key}", f"{value} is out of range: a target group takes 2 to 10", source
                )
        thresholds[key] = value
    interval = timeout = None
    if check.get("interval") is not None:
        interval = _whole_seconds(check["interval"], f"{prefix}.interval", source)
        if not 5 <= interval <= 300:
            raise ManifestError(
                f"{prefix}.interval",
                f"{check['interval']} is out of range: a target group checks every 5s to 300s",
                source,
            )
    if check.get("timeout") is not None:
        timeout = _whole_seconds(check["timeout"], f"{prefix}.timeout", source)
        if not 2 <= timeout <= 120:
            raise ManifestError(
                f"{prefix}.timeout",
                f"{check['timeout']} is out of range: a target group waits 2s to 120s",
                source,
            )
    # ELB's defaults for an HTTP target group: a check every 30 s that times out after 5 s.
    effective_interval = interval if interval is not None else 30
    effective_timeout = timeout if timeout is not None else 5
    if effective_timeout >= effective_interval:
        raise ManifestError(
            f"{prefix}.timeout" if timeout is not None else f"{prefix}.interval",
            f"the timeout ({effective_timeout}s) must be smaller than the interval ({effective_interval}s)",
            source,
        )
    grace = DEFAULT_GRACE_PERIOD
    if check.get("grace_period") is not None:
        grace = _whole_seconds(check["grace_period"], f"{prefix}.grace_period", source)
        if grace < 0 or grace > 2147483647:
            raise ManifestError(f"{prefix}.grace_period", "must be 0s or more", source)
    return HealthCheck(
        path=path,
        port=port,
        success_codes=codes,
        healthy_threshold=thresholds["healthy_threshold"],
        unhealthy_threshold=thresholds["unhealthy_threshold"],
        interval=interval,
        timeout=timeout,
        grace_period=grace,
    )


def _success_codes(codes: str, field_name: str, source: str | None) -> None:
    """ALB matcher HttpCode: codes from 200 to 499, comma separated or a range ("200,202", "200-299")."""
    for part in codes.split(","):
        bounds = part.strip().split("-")
        if len(bounds) > 2 or not all(b.isdigit() for b in bounds):
            raise ManifestError(
                field_name, f"{codes!r}: give codes like '200', '200,202' or '200-299'", source
            )
        values = [int(b) for b in bounds]
        if not all(200 <= v <= 499 for v in values) or values != sorted(values):
            raise ManifestError(field_name, f"{codes!r}: an ALB accepts codes from 200 to 499", source)


def _task_size(data: dict[str, Any], source: str | None) -> tuple[int, int]:
    cpu = data.get("cpu", DEFAULT_CPU)
    memory = data.get("memory", DEFAULT_MEMORY)
    cpu = _int(cpu, "cpu", source, minimum=1)
    memory = _int(memory, "memory", source, minimum=1)
    if not fargate_size_allowed(cpu, memory):
        raise ManifestError(
            "memory" if "memory" in data else "cpu",
            f"cpu {cpu} with memory {memory} is not a Fargate task size "
            "(for example 256 goes with 512, 1024 or 2048; 1024 with 2048 to 8192)",
            source,
        )
    return cpu, memory


def _percentage(value: Any, field_name: str, source: str | None) -> float:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ManifestError(field_name, f"{value!r} must be a number", source)
    if not 0 <= value <= 100:
        raise ManifestError(field_name, f"percentage value {value} must be an integer from 0 to 100", source)
    return float(value)


def _count(data: dict[str, Any], kind: str, has_http: bool, source: str | None) -> Count:
    raw = data.get("count")
    if kind in JOB_TYPES:
        if raw is not None:
            raise ManifestError(
                "count", f"cannot have autoscaling options for workloads of type '{kind}'", source
            )
        return Count(desired=1)
    if raw is None:
        return Count(desired=1)
    if not isinstance(raw, dict):
        return Count(desired=_int(raw, "count", source, minimum=0))
    valid = _SCALING_FIELDS[kind]
    invalid = [f for f in _ALL_SCALING_FIELDS if f in raw and f not in valid]
    if invalid:
        quoted = " and ".join(f'"{f}"' for f in invalid)
        noun = "field" if len(invalid) == 1 else "fields"
        verb = "is" if len(invalid) == 1 else "are"
        raise ManifestError(
            "count", f"autoscaling {noun} {quoted} {verb} invalid with workload type {kind}", source
        )
    set_fields = [f for f in valid if raw.get(f) is not None]
    if raw.get("spot") is not None:
        if raw.get("range") is not None or set_fields:
            raise ManifestError(
                "count", f'must specify one, not both, of "spot" and "range/{"/".join(valid)}"', source
            )
        return Count(desired=_int(raw["spot"], "count.spot", source, minimum=0), spot_from=0)
    minimum, maximum, spot_from = _range(raw.get("range"), source)
    if minimum is None and set_fields:
        listed = ", ".join(f'"{f}"' for f in valid)
        raise ManifestError("count.range", f'"range" must be specified if {listed} are specified', source)
    if minimum is not None and not set_fields:
        listed = " or ".join(f'"{f}"' for f in valid)
        raise ManifestError("count", f'must specify at least one of {listed} if "range" is specified', source)
    if minimum is None:
        raise ManifestError("count", 'a count mapping needs "range" (or "spot")', source)
    if (raw.get("requests") is not None or raw.get("response_time") is not None) and not has_http:
        raise ManifestError(
            "count",
            '"http" must be specified if "count.requests" or "count.response_time" are specified',
            source,
        )
    cooldown = raw.get("cooldown") or {}
    cooldown = _mapping(cooldown, "count.cooldown", source)
    scale_in = _whole_seconds(cooldown["in"], "count.cooldown.in", source) if "in" in cooldown else 120
    scale_out = _whole_seconds(cooldown["out"], "count.cooldown.out", source) if "out" in cooldown else 60
    requests = raw.get("requests")
    if isinstance(requests, dict):
        requests = requests.get("value")
    if requests is not None:
        requests = _int(requests, "count.requests", source, minimum=1)
    response = raw.get("response_time")
    if isinstance(response, dict):
        response = response.get("value")
    response_seconds = _seconds(response, "count.response_time", source) if response is not None else None
    return Count(
        desired=minimum,
        minimum=minimum,
        maximum=maximum,
        spot_from=spot_from,
        cpu_percentage=_percentage(raw["cpu_percentage"], "count.cpu_percentage", source)
        if raw.get("cpu_percentage") is not None
        else None,
        memory_percentage=_percentage(raw["memory_percentage"], "count.memory_percentage", source)
        if raw.get("memory_percentage") is not None
        else None,
        requests=float(requests) if requests is not None else None,
        response_time=response_seconds,
        scale_in_cooldown=scale_in,
        scale_out_cooldown=scale_out,
    )


def _range(raw: Any, source: str | None) -> tuple[int | None, int | None, int | None]:
    if raw is None:
        return None, None, None
    if isinstance(raw, str):
        band = _RANGE_BAND.match(raw)
        if band is None:
            raise ManifestError(
                "count.range", f"invalid range value {raw}: valid format is ${{min}}-${{max}}", source
            )
        low, high, spot = int(band.group(1)), int(band.group(2)), None
    elif isinstance(raw, dict):
        if raw.get("min") is None or raw.get("max") is None:
            raise ManifestError("count.range", '"min/max" must be specified', source)
        low = _int(raw["min"], "count.range.min", source, minimum=0)
        high = _int(raw["max"], "count.range.max", source, minimum=0)
        spot = (
            _int(raw["spot_from"], "count.range.spot_from", source, minimum=0)
            if raw.get("spot_from") is not None
            else None
        )
    else:
        raise ManifestError(
            "count.range", f"invalid range value {raw}: valid format is ${{min}}-${{max}}", source
        )
    if low > high:
        raise ManifestError("count.range", f"min value {low} cannot be greater than max value {high}", source)
    return low, high, spot


def _variables(raw: Any, source: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The plain variables, and those imported from a CloudFormation export (`from_cfn`)."""
    if raw is None:
        return {}, {}
    variables = _mapping(raw, "variables", source)
    result: dict[str, str] = {}
    imports: dict[str, str] = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not _VARIABLE_NAME.match(name):
            raise ManifestError("variables", f"{name!r} is not an environment variable name", source)
        if isinstance(value, dict):
            export = value.get("from_cfn")
            if len(value) != 1 or not isinstance(export, str) or not export:
                raise ManifestError(f"variables.{name}", "a mapping value is {from_cfn: EXPORT_NAME}", source)
            imports[name] = export
            continue
        if value is None or isinstance(value, list):
            raise ManifestError(f"variables.{name}", "must be a string, number or boolean", source)
        result[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return result, imports


def _secrets(raw: Any, source: str | None) -> dict[str, dict[str, str]]:
    """Each secret becomes {"kind": "ssm"|"secretsmanager"|"from_cfn", "value": ...}."""
    if raw is None:
        return {}
    secrets = _mapping(raw, "secrets", source)
    result: dict[str, dict[str, str]] = {}
    for name, value in secrets.items():
        where = f"secrets.{name}"
        if not isinstance(name, str) or not _VARIABLE_NAME.match(name):
            raise ManifestError("secrets", f"{name!r} is not an environment variable name", source)
        if isinstance(value, str):
            if _SECRETSMANAGER_ARN.match(value):
                result[name] = {"kind": "secretsmanager", "value": value}
            elif _SSM_ARN.match(value) or _SSM_NAME.match(value):
                result[name] = {"kind": "ssm", "value": value}
            else:
                raise ManifestError(where, f"{value!r} is neither an SSM parameter name nor an ARN", source)
            continue
        if isinstance(value, dict) and len(value) == 1 and "secretsmanager" in value:
            secret = value["secretsmanager"]
            if not isinstance(secret, str) or not (
                _SECRETSMANAGER_ARN.match(secret) or _SECRETSMANAGER_NAME.match(secret)
            ):
                raise ManifestError(
                    f"{where}.secretsmanager", f"{secret!r} is not a Secrets Manager secret name", source
                )
            result[name] = {"kind": "secretsmanager", "value": secret}
            continue
        if isinstance(value, dict) and len(value) == 1 and "from_cfn" in value:
            export = value["from_cfn"]
            if not isinstance(export, str) or not export:
                raise ManifestError(f"{where}.from_cfn", "must name a CloudFormation export", source)
            result[name] = {"kind": "from_cfn", "value": export}
            continue
        raise ManifestError(
            where,
            "must be an SSM parameter name or ARN, {secretsmanager: NAME} or {from_cfn: EXPORT}",
            source,
        )
    return result


def _topic_name(value: Any, where: str, source: str | None) -> str:
    # validatePubSubName (internal/pkg/manifest/validate.go and internal/pkg/cli/validate.go).
    if not isinstance(value, str) or value == "":
        raise ManifestError(where, '"name" must be specified', source)
    if not _TOPIC_NAME.match(value):
        raise ManifestError(
            where, "topic names can only contain letters, numbers, underscores, and hyphens", source
        )
    return value


def _subscribe(data: dict[str, Any], kind: str, source: str | None) -> tuple[TopicSubscription, ...]:
    raw = data.get("subscribe")
    if raw is None:
        return ()
    if kind != WORKER_SERVICE:
        return ()  # Copilot reads `subscribe` only for a Worker Service and ignores it elsewhere
    subscribe = _mapping(raw, "subscribe", source)
    topics = subscribe.get("topics") or []
    if not isinstance(topics, list):
        raise ManifestError("subscribe.topics", "must be a list of {name, service}", source)
    found = []
    for index, topic in enumerate(topics):
        where = f"subscribe.topics[{index}]"
        topic = _mapping(topic, where, source)
        name = _topic_name(topic.get("name"), f"{where}.name", source)
        service = topic.get("service")
        if not service:
            raise ManifestError(f"{where}.service", '"service" must be specified', source)
        try:
            validate_name(service)
        except ValueError:
            raise ManifestError(f"{where}.service", f"service name {_BAD_NAME}", source) from None
        found.append(TopicSubscription(name=name, service=service))
    return tuple(found)


def _schedule(data: dict[str, Any], kind: str, source: str | None) -> str | None:
    raw = data.get("on")
    if kind not in JOB_TYPES:
        return None  # Copilot reads `on` only for a Scheduled Job and ignores it elsewhere
    if raw is None:
        raise ManifestError("on", '"on" must be specified', source)
    trigger = _mapping(raw, "on", source)
    schedule = trigger.get("schedule")
    if schedule is None:
        raise ManifestError("on.schedule", '"schedule" must be specified', source)
    if not isinstance(schedule, str):
        raise ManifestError("on.schedule", "value must be a string", source)
    try:
        aws_schedule(schedule)
    except ValueError as exc:
        raise ManifestError("on.schedule", str(exc), source) from None
    retries = data.get("retries")
    if retries is not None and _int(retries, "retries", source) < 0:
        raise ManifestError("retries", "number of retries cannot be negative", source)
    if data.get("timeout") is not None and _seconds(data["timeout"], "timeout", source) < 1:
        raise ManifestError("timeout", "timeout must be greater than or equal to 1 second", source)
    return schedule


# -- schedules ----------------------------------------------------------------------------------

_AWS_SCHEDULE = re.compile(r"(?:rate|cron)\(.*\)")
_PRESETS = {
    "@yearly": "0 0 1 1 ? *",
    "@annually": "0 0 1 1 ? *",
    "@monthly": "0 0 1 * ? *",
    "@weekly": "0 0 ? * 1 *",
    "@daily": "0 0 * * ? *",
    "@midnight": "0 0 * * ? *",
    "@hourly": "0 * * * ? *",
}
_SCHEDULE_INVALID = "value must be a valid cron expression (examples: @weekly; @every 30m; 0 0 * * 0)"
# Standard cron fields (robfig/cron ParseStandard): minute, hour, day of month, month, day of week.
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            m: i + 1
            for i, m in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            )
        },
    ),
    ("day of week", 0, 6, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
)


def _cron_value(text: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(text.lower()) if text.lower() in names else (int(text) if text.isdigit() else None)
    if value is None or not low <= value <= high:
        raise ValueError(text)
    return value


def _check_cron_field(text: str, low: int, high: int, names: dict[str, int]) -> None:
    for part in text.split(","):
        spec, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(part)
        if spec in ("*", "?"):
            continue
        bounds = spec.split("-")
        if len(bounds) > 2:
            raise ValueError(part)
        values = [_cron_value(b, low, high, names) for b in bounds]
        if values != sorted(values):
            raise ValueError(part)


def _validate_standard_cron(schedule: str) -> list[str]:
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"schedule {schedule} is invalid: {_SCHEDULE_INVALID}")
    for text, (_, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        try:
            _check_cron_field(text, low, high, names)
        except ValueError:
            raise ValueError(f"schedule {schedule} is invalid: {_SCHEDULE_INVALID}") from None
    return fields


def aws_schedule(schedule: str) -> str:
    """Copilot's `on.schedule` as an EventBridge expression (ScheduledJob.awsSchedule).

    `rate(...)`/`cron(...)` pass through; `@every 1h30m` becomes `rate(90 minutes)`; presets
    (`@hourly`, `@daily`...) and standard five-field cron become AWS six-field cron. Raises
    `ValueError` with Copilot's message.
    """
    if _AWS_SCHEDULE.search(schedule) or schedule == "none":
        return schedule
    if schedule.startswith("@every "):
        interval = schedule[len("@every ") :]
        try:
            seconds = parse_duration(interval)
        except ValueError:
            raise ValueError(
                f"interval {schedule} must include a valid Go duration string (example: @every 1h30m)"
            ) from None
        if seconds != int(seconds):
            raise ValueError(
                f"interval {schedule} is invalid: duration cannot be in units smaller than a second"
            )
        if seconds < 60:
            raise ValueError(f"interval {schedule} is invalid: duration must be 1m0s or greater")
        if seconds % 60:
            raise ValueError(
                f"interval {schedule} is invalid: duration must be a whole number of minutes or hours"
            )
        minutes = int(seconds // 60)
        return f"rate({minutes} {'minute' if minutes == 1 else 'minutes'})"
    if schedule.startswith("@"):
        preset = _PRESETS.get(schedule.strip())
        if preset is None:
            raise ValueError(f"schedule {schedule} is invalid: {_SCHEDULE_INVALID}")
        return f"cron({preset})"
    fields = _validate_standard_cron(schedule)
    minute, hour, dom, month, dow = fields
    dom_set, dow_set = not set("*?") & set(dom), not set("*?") & set(dow)
    if dom_set and dow_set:
        raise ValueError(
            f"schedule {schedule} is invalid: cannot specify both DOW and DOM in cron expression"
        )
    if not dom_set and not dow_set:
        dom, dow = "*", "?"
    elif dow_set:
        dom = "?"
    else:
        dow = "?"
    # Day-of-week numbers are 0-6 in standard cron and 1-7 in AWS cron.
    dow = "".join(str(int(c) + 1) if c.isdigit() else c for c in dow)
    return f"cron({minute} {hour} {dom} {month} {dow} *)"
