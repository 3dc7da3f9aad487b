"""Workload processes: a task's container running its image's workload, in step with the clock.

A workload (see `labkit.dataplane.workloads`) is ordinary Python code in a thread of its own, but it
never runs beside the simulator: the simulator hands it control in a timeline action and waits until
it yields (a `ctx.sleep`, its return, an exception). Its AWS calls travel back to that waiting
thread, which serves them in-process through moto as of the action's instant. So a workload sees
the sandbox clock, takes no wall-clock time the manual clock would not know about, and is as
deterministic as the rest of the simulator.

Its clients sign with credentials of the task role (an access key the simulator issues per task);
moto's authorisation hook sends those requests here, and the role's IAM policies decide (explicit
Deny wins, then any Allow; conditions are not evaluated). A task without a task role gets no
credentials, as on AWS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import functools
import io
import json
import logging
import queue
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from labkit.dataplane.workloads import Workload, WorkloadContext, WorkloadError, workload_for
from labkit.sandbox import moto_seam
from labkit.sandbox.simulator import reasons
from labkit.sandbox.simulator.execution_role import check_execution_role, pull_failure
from labkit.sandbox.simulator.iam_actions import iam_action
from labkit.sandbox.simulator.volumes import VolumeStore

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator, _Due
    from labkit.sandbox.simulator.ecs import TaskRuntime

__all__ = ["TaskProcess", "WorkloadRunner", "parse_env_file", "policy_allows"]

log = logging.getLogger("labkit.simulator.workloads")

#: Wall-clock seconds a workload may compute between two yields before it counts as hung.
STEP_TIMEOUT = 60.0
#: The shortest sandbox-time wait (a zero wait would spin the timeline).
MIN_SLEEP = 1.0


class _Killed(BaseException):
    """Raised inside a workload's thread to end it (SIGKILL); not an Exception, so it is not caught."""


def parse_env_file(text: str) -> dict[str, str]:
    """Parse an environment file as Docker's `--env-file` does: VARIABLE=VALUE lines, `#` comments."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        values[name.strip()] = value
    return values


# -- IAM ------------------------------------------------------------------------------------


def _matches(patterns: Any, value: str, *, case: bool) -> bool:
    items = patterns if isinstance(patterns, list) else [patterns]
    for pattern in items:
        pattern = str(pattern)
        if case and fnmatch.fnmatchcase(value, pattern):
            return True
        if not case and fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return True
    return False


def policy_allows(documents: list[dict[str, Any]], action: str, resource: str) -> bool | None:
    """Evaluate identity policies: False on an explicit Deny, True on an Allow, None when none applies.

    `resource` "*" stands for a request whose resource labkit does not work out: any Resource matches.
    """
    allowed: bool | None = None
    for document in documents:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if "Action" in statement:
                concerned = _matches(statement["Action"], action, case=False)
            else:
                concerned = not _matches(statement.get("NotAction", []), action, case=False)
            if not concerned:
                continue
            if resource == "*":
                hit = True
            elif "Resource" in statement:
                hit = _matches(statement["Resource"], resource, case=True)
            else:
                hit = not _matches(statement.get("NotResource", []), resource, case=True)
            if not hit:
                continue
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed


@dataclass
class _TaskCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    role_arn: str
    task_arn: str

    @property
    def principal(self) -> str:
        account = self.role_arn.split(":")[4]
        role = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{account}:assumed-role/{role}/{self.task_arn.rsplit('/', 1)[-1]}"


# -- one process ----------------------------------------------------------------------------


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)

    def stream(self, **_: Any) -> Any:
        yield self._body.read()

    def read(self, amt: int | None = None) -> bytes:
        return self._body.read() if amt is None else self._body.read(amt)


@dataclass
class TaskProcess:
    """One container's workload: a thread that runs only while the simulator waits for it."""

    runner: WorkloadRunner
    runtime: TaskRuntime
    container: str
    essential: bool
    workload: Workload
    context: WorkloadContext | None = None
    credentials: _TaskCredentials | None = None
    stop_requested: bool = False
    finished: bool = False
    due: _Due | None = None
    #: The queue a long poll waits on (a message sent there wakes the workload).
    waiting_on: str | None = None
    _to_task: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    _to_sim: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None

    # -- the workload's side (its own thread) ---------------------------------------------

    def client(self, service: str) -> Any:
        from botocore.credentials import CredentialResolver

        from labkit.sandbox.guards import isolated_botocore_session, sandbox_client_config

        sim = self.runner.sim
        core = isolated_botocore_session(sim.region)
        if self.credentials is None:
            # No task role: the SDK in the container finds no credentials.
            core.register_component("credential_provider", CredentialResolver(providers=[]))
            core._credentials = None  # type: ignore[attr-defined]
        else:
            core.set_credentials(
                self.credentials.access_key_id,
                self.credentials.secret_access_key,
                self.credentials.session_token,
            )
        core.register("before-send", self._send, unique_id="labkit-task-transport")  # type: ignore[arg-type]
        client: Any = core.create_client(
            service, region_name=sim.region, endpoint_url="http://127.0.0.1", config=sandbox_client_config()
        )
        if service == "sqs":
            client.receive_message = functools.partial(self._long_poll, client.receive_message)
        return client

    def _long_poll(self, receive: Any, **params: Any) -> Any:
        """ReceiveMessage with long polling on the sandbox clock.

        moto would wait WaitTimeSeconds (or the queue's ReceiveMessageWaitTimeSeconds) of wall-clock
        time, which a manual clock never sees. Here the receive asks with no wait; an empty answer
        waits in sandbox time until a message is sent to the queue or the wait is used up, then
        asks again (a message that becomes visible again is seen when the wait ends).
        """
        queue_url = str(params.get("QueueUrl", ""))
        wait = params.get("WaitTimeSeconds")
        if wait is None:
            wait = self._queue_wait(queue_url)
        params["WaitTimeSeconds"] = 0
        deadline = self.now() + dt.timedelta(seconds=int(wait))
        while True:
            answer = receive(**params)
            remaining = (deadline - self.now()).total_seconds()
            if answer.get("Messages") or remaining < MIN_SLEEP or self.stop_requested:
                return answer
            self.waiting_on = queue_url.rstrip("/").rsplit("/", 1)[-1]
            try:
                if not self.sleep(remaining):
                    return answer
            finally:
                self.waiting_on = None

    def _queue_wait(self, queue_url: str) -> int:
        with contextlib.suppress(Exception):
            queue = moto_seam.backend("sqs", self.runner.sim.account_id, self.runner.sim.region).get_queue(
                queue_url.rstrip("/").rsplit("/", 1)[-1]
            )
            # moto sets the attribute from the queue's attributes (its model does not declare it).
            return int(getattr(queue, "receive_message_wait_time_seconds", 0) or 0)
        return 0

    def _send(self, request: Any, **_: Any) -> Any:
        """botocore `before-send`: hand the request to the simulator's thread, return its answer."""
        from botocore.awsrequest import AWSResponse, HTTPHeaders

        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        payload = {
            "method": request.method,
            "url": request.url,
            "headers": dict(request.headers),
            "body": body or b"",
        }
        status, headers, content = self._ask("request", payload)
        return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _Raw(content))

    def _ask(self, kind: str, payload: Any) -> Any:
        self._to_sim.put((kind, payload))
        answer, value = self._to_task.get()
        if answer == "kill":
            raise _Killed()
        return value

    def sleep(self, seconds: float) -> bool:
        if self.stop_requested:
            return False
        self._ask("sleep", max(MIN_SLEEP, float(seconds)))
        return not self.stop_requested

    def now(self) -> dt.datetime:
        return self.runner.sim.now()

    @property
    def stopping(self) -> bool:
        return self.stop_requested

    def _main(self) -> None:
        assert self.context is not None
        try:
            if self._to_task.get()[0] == "kill":
                return
            code = self.workload(self.context)
            self._to_sim.put(("exit", (int(code or 0), None)))
        except _Killed:
            return
        except Exception as exc:  # noqa: BLE001 - a workload's own error is its exit code 1
            reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, WorkloadError) else str(exc)
            self.context.log(f"error: {reason}")
            self._to_sim.put(("exit", (1, reason[:255])))

    # -- the simulator's side ---------------------------------------------------------------

    def start(self, context: WorkloadContext) -> None:
        self.context = context
        self._thread = threading.Thread(
            target=self._main, name=f"labkit-workload-{self.runtime.task.id}-{self.container}", daemon=True
        )
        self._thread.start()
        self.due = self.runner.sim.after(0, self.resume, "workload-start", on_error=self._failed)

    def resume(self) -> None:
        """Let the workload run until it yields; serve its requests meanwhile (a timeline action)."""
        if self.finished:
            return
        self.due = None
        self._to_task.put(("resume", None))
        while True:
            try:
                kind, payload = self._to_sim.get(timeout=STEP_TIMEOUT)
            except queue.Empty:
                self.kill()
                self._exited(1, f"the workload did not yield within {STEP_TIMEOUT:g} s of wall-clock time")
                return
            if kind == "request":
                self._to_task.put(("response", self.runner.serve(payload)))
                continue
            if kind == "sleep":
                if self.stop_requested:
                    # Still working after SIGTERM: the container is killed.
                    self.kill()
                    self._exited(137, None)
                    return
                self.due = self.runner.sim.after(
                    float(payload), self.resume, "workload-wake", on_error=self._failed
                )
                return
            if kind == "exit":
                code, reason = payload
                self._exited(code, reason)
                return

    def stop(self) -> None:
        """The task is stopping: signal the workload and give it one step to finish."""
        if self.finished or self.stop_requested:
            return
        self.stop_requested = True
        if self.due is not None:
            self.due.cancelled = True
            self.due = None
            if self._thread is not None and self._thread.is_alive():
                self.resume()

    def wake(self) -> None:
        """Cut a wait short: the workload resumes at the current instant."""
        if self.due is not None and not self.finished:
            self.due.cancelled = True
            self.due = self.runner.sim.after(0, self.resume, "workload-wake", on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        """Serving the workload raised (a labkit fault): its container exits with code 1 and the reason."""
        if self.finished:
            return
        self.kill()
        self._exited(1, f"labkit simulator fault: {type(exc).__name__}: {exc}"[:255])

    def kill(self) -> None:
        """End the workload's thread without waiting for it."""
        self.finished = True
        if self.due is not None:
            self.due.cancelled = True
        self._to_task.put(("kill", None))

    def _exited(self, code: int, reason: str | None) -> None:
        self.finished = True
        self.runner.exited(self, code, reason)


# -- the runner -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What a workload container will run with, settled before its task runs."""

    name: str
    image: str
    essential: bool
    workload: Workload
    environment: dict[str, str]
    command: list[str]
    role: str | None


class WorkloadRunner:
    """Starts the workloads of running tasks, stops them with their tasks, and authorises their calls."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.processes: dict[str, list[TaskProcess]] = {}
        self._plans: dict[str, list[_Plan]] = {}
        self.credentials: dict[str, _TaskCredentials] = {}
        self.volumes = VolumeStore()

    # -- lifecycle ------------------------------------------------------------------------

    def task_activating(self, runtime: TaskRuntime) -> None:
        """The image is pulled: resolve each workload container's environment (secrets, files).

        A secret or file that does not resolve stops the task before it runs, as ECS does
        (`TaskFailedToStart`, `ResourceInitializationError`).
        """
        try:
            definition = self.sim.ecs.backend.describe_task_definition(runtime.task.task_definition_arn)
            for container in definition.container_definitions:
                failure = pull_failure(self, definition, container, runtime.arn)
                if failure is not None:
                    self._refuse_container(runtime, str(container.get("name")), failure)
                    return
            plans = self._plan(runtime)
        except WorkloadError as exc:
            reason = reasons.secrets_failed(str(exc))
            self.sim.ecs.stop(runtime, reason, stop_code="TaskFailedToStart", failed=True)
            return
        except Exception as exc:
            # A fault of labkit's must not break every later request: the task fails to start.
            log.exception("the workloads of task %s could not be prepared", runtime.arn)
            reason = f"CannotStartContainerError: the sandbox could not start the workload ({exc})"
            self.sim.ecs.stop(runtime, reason, stop_code="TaskFailedToStart", failed=True)
            return
        if plans:
            self._plans[runtime.arn] = plans

    def _refuse_container(self, runtime: TaskRuntime, container_name: str, reason: str) -> None:
        """The container's image or log stream could not be set up: it gets the reason, the task stops."""
        for container in runtime.task.containers:
            if container.get("name") == container_name:
                container["reason"] = reason
        self.sim.ecs.stop(runtime, reason, stop_code="TaskFailedToStart", failed=True)

    def _plan(self, runtime: TaskRuntime) -> list[_Plan]:
        definition = self.sim.ecs.backend.describe_task_definition(runtime.task.task_definition_arn)
        overrides = runtime.task.overrides or {}
        by_name = {o.get("name"): o for o in overrides.get("containerOverrides") or []}
        role = overrides.get("taskRoleArn") or getattr(definition, "task_role_arn", None)
        plans: list[_Plan] = []
        for container in definition.container_definitions:
            workload = workload_for(str(container.get("image", "")))
            if workload is None:
                continue
            override = by_name.get(container.get("name"), {})
            check_execution_role(self, definition, container, runtime.arn)
            plans.append(
                _Plan(
                    name=str(container.get("name")),
                    image=str(container.get("image")),
                    essential=bool(container.get("essential", True)),
                    workload=workload,
                    environment=self._environment(container, override),
                    command=list(override.get("command") or container.get("command") or []),
                    role=str(role) if role else None,
                )
            )
        return plans

    def task_running(self, runtime: TaskRuntime) -> None:
        """Start a process for each container whose image has a workload."""
        plans = self._plans.pop(runtime.arn, [])
        definition = (
            self.sim.ecs.backend.describe_task_definition(runtime.task.task_definition_arn) if plans else None
        )
        for plan in plans:
            process = TaskProcess(self, runtime, plan.name, plan.essential, plan.workload)
            if plan.role:
                process.credentials = self._issue(plan.role, runtime.arn)
            context = WorkloadContext(
                task_arn=runtime.arn,
                cluster=runtime.cluster,
                container_name=plan.name,
                image=plan.image,
                environment=plan.environment,
                command=plan.command,
                channel=process,
                files=self.volumes.files_for(runtime, definition, plan.name),
            )
            self.processes.setdefault(runtime.arn, []).append(process)
            process.start(context)

    def task_stopping(self, runtime: TaskRuntime) -> None:
        """The task is stopping: every workload gets the stop signal."""
        for process in list(self.processes.get(runtime.arn, [])):
            process.stop()
        for process in self.processes.get(runtime.arn, []):
            if not process.finished:
                process.kill()
                self._record_exit(process, 137, None)
        self.volumes.task_stopped(runtime.arn)

    def exited(self, process: TaskProcess, code: int, reason: str | None) -> None:
        """A workload ended: record its exit code; an essential container's exit stops the task."""
        self._record_exit(process, code, reason)
        if process.credentials is not None:
            self.credentials.pop(process.credentials.access_key_id, None)
        runtime = process.runtime
        if process.essential and runtime.status == "RUNNING":
            self.sim.ecs.container_exited(runtime, process.container, code)

    def _record_exit(self, process: TaskProcess, code: int, reason: str | None) -> None:
        for container in process.runtime.task.containers:
            if container["name"] == process.container:
                container["exitCode"] = code
                container["lastStatus"] = "STOPPED"
                if reason:
                    container["reason"] = reason

    def message_sent(self, queue_name: str) -> None:
        """A message was sent to a queue: wake the workloads long-polling it."""
        for processes in self.processes.values():
            for process in processes:
                if process.waiting_on == queue_name:
                    process.wake()

    def logs(self, task_arn: str) -> list[str]:
        """The log lines of a task's workloads, in order."""
        lines: list[str] = []
        for process in self.processes.get(task_arn, []):
            if process.context is not None:
                lines.extend(process.context.logs)
        return lines

    def close(self) -> None:
        """End every workload thread."""
        for processes in self.processes.values():
            for process in processes:
                if not process.finished:
                    process.kill()
        self.processes.clear()
        self._plans.clear()
        self.credentials.clear()

    # -- environment ----------------------------------------------------------------------

    def _environment(self, container: dict[str, Any], override: dict[str, Any]) -> dict[str, str]:
        """Files (later ones win), then `environment`, then `secrets`, then the overrides' files and variables."""
        values: dict[str, str] = {}
        for entry in container.get("environmentFiles") or []:
            values.update(self._env_file(str(entry.get("value", ""))))
        values.update(
            {e["name"]: str(e.get("value", "")) for e in container.get("environment") or [] if "name" in e}
        )
        for secret in container.get("secrets") or []:
            values[str(secret["name"])] = self._secret(str(secret.get("valueFrom", "")))
        for entry in override.get("environmentFiles") or []:
            values.update(self._env_file(str(entry.get("value", ""))))
        values.update(
            {e["name"]: str(e.get("value", "")) for e in override.get("environment") or [] if "name" in e}
        )
        return values

    def _env_file(self, arn: str) -> dict[str, str]:
        if not arn.startswith("arn:aws:s3:::") or "/" not in arn:
            raise WorkloadError(f"environment file {arn} is not an S3 object ARN")
        bucket, key = arn[len("arn:aws:s3:::") :].split("/", 1)
        try:
            obj = moto_seam.backend("s3", self.sim.account_id, "aws").get_object(bucket, key)
        except Exception as exc:  # noqa: BLE001 - moto raises many kinds for a missing object
            raise WorkloadError(f"cannot read environment file {arn}: {exc}") from None
        if obj is None:
            raise WorkloadError(f"environment file {arn} does not exist")
        return parse_env_file(obj.value.decode("utf-8", errors="replace"))

    def _secret(self, value_from: str) -> str:
        if ":secretsmanager:" in value_from or value_from.startswith("arn:aws:secretsmanager"):
            return self._secrets_manager(value_from)
        return self._parameter(value_from)

    def _parameter(self, value_from: str) -> str:
        name = value_from
        if value_from.startswith("arn:"):
            name = value_from.split(":parameter", 1)[1]
        try:
            parameter = moto_seam.backend("ssm", self.sim.account_id, self.sim.region).get_parameter(name)
        except Exception:  # noqa: BLE001 - moto raises many kinds for a missing parameter
            parameter = None
        if parameter is None:
            raise WorkloadError(f"the SSM parameter {value_from} does not exist")
        # ECS hands the container a SecureString's decrypted value (decrypt leaves others as they are).
        return str(parameter.decrypt(parameter.value))

    def _secrets_manager(self, value_from: str) -> str:
        parts = value_from.split(":")
        # arn:aws:secretsmanager:region:account:secret:name-suffix[:json-key[:version-stage[:version-id]]]
        secret_id = ":".join(parts[:7])
        json_key = parts[7] if len(parts) > 7 else ""
        stage = parts[8] if len(parts) > 8 and parts[8] else None
        version = parts[9] if len(parts) > 9 and parts[9] else None
        backend = moto_seam.backend("secretsmanager", self.sim.account_id, self.sim.region)
        try:
            answer = backend.get_secret_value(secret_id, version, stage)
        except Exception:  # noqa: BLE001 - moto raises many kinds for a missing secret
            raise WorkloadError(f"the secret {value_from} does not exist") from None
        text = str(answer.get("SecretString") or "")
        if not json_key:
            return text
        try:
            return str(json.loads(text)[json_key])
        except (ValueError, KeyError, TypeError):
            raise WorkloadError(f"the secret {secret_id} has no JSON key {json_key}") from None

    # -- credentials and authorisation ----------------------------------------------------

    def _issue(self, role_arn: str, task_arn: str) -> _TaskCredentials:
        key = "ASIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        credentials = _TaskCredentials(
            key, secrets.token_urlsafe(30), secrets.token_urlsafe(60), role_arn, task_arn
        )
        self.credentials[key] = credentials
        return credentials

    def credentials_for(self, headers: Any) -> _TaskCredentials | None:
        """The task credentials a request was signed with, if any."""
        auth = str(headers.get("Authorization") or headers.get("authorization") or "")
        if "Credential=" not in auth:
            return None
        key = auth.split("Credential=", 1)[1].split("/", 1)[0]
        return self.credentials.get(key)

    def role_documents(self, role_arn: str) -> list[dict[str, Any]]:
        """The identity policies (inline and attached) of a role; an unknown role has none."""
        iam = moto_seam.backend("iam", self.sim.account_id, "aws")
        name = role_arn.rsplit("/", 1)[-1]
        documents: list[dict[str, Any]] = []
        try:
            for policy_name in iam.list_role_policies(name):
                _, document = iam.get_role_policy(name, policy_name)
                documents.append(json.loads(document) if isinstance(document, str) else document)
            attached, _ = iam.list_attached_role_policies(name)
            for policy in attached:
                documents.append(moto_seam.iam.policy_document(policy))
        except Exception:
            log.debug("role %s has no readable policies", role_arn, exc_info=True)
        return documents

    def authorize(self, response: Any, credentials: _TaskCredentials, service: str, action: str) -> None:
        """Raise AWS's access-denied error unless the task role's policies allow the request.

        `action` is the API operation; the policy is evaluated for the IAM action AWS names for it
        (`labkit.sandbox.simulator.iam_actions`)."""
        resource = self._resource(response, service)
        query = getattr(response, "querystring", None)
        full = iam_action(service, action, query if isinstance(query, dict) else None)
        if policy_allows(self.role_documents(credentials.role_arn), full, resource) is True:
            return
        shown = resource if resource != "*" else "*"
        message = (
            f"User: {credentials.principal} is not authorized to perform: {full} on resource: {shown} "
            f"because no identity-based policy allows the {full} action"
        )
        raise _denied(service, message)

    def _resource(self, response: Any, service: str) -> str:
        region, account = self.sim.region, self.sim.account_id

        def param(name: str) -> str:
            with contextlib.suppress(Exception):
                value = moto_seam.request_param(response, name)
                if value:
                    return str(value)
            return ""

        if service == "s3":
            path = unquote(
                urlsplit(str(getattr(response, "uri", "") or "")).path or getattr(response, "path", "")
            )
            parts = path.lstrip("/").split("/", 1)
            if not parts[0]:
                return "*"
            return (
                f"arn:aws:s3:::{parts[0]}/{parts[1]}"
                if len(parts) > 1 and parts[1]
                else f"arn:aws:s3:::{parts[0]}"
            )
        if service == "dynamodb" and param("TableName"):
            return f"arn:aws:dynamodb:{region}:{account}:table/{param('TableName')}"
        if service == "sqs" and param("QueueUrl"):
            return f"arn:aws:sqs:{region}:{account}:{param('QueueUrl').rstrip('/').rsplit('/', 1)[-1]}"
        if service == "sns" and (param("TopicArn") or param("TargetArn")):
            return param("TopicArn") or param("TargetArn")
        if service == "ssm" and param("Name"):
            return f"arn:aws:ssm:{region}:{account}:parameter/{param('Name').lstrip('/')}"
        if service == "secretsmanager" and param("SecretId"):
            secret = param("SecretId")
            return (
                secret
                if secret.startswith("arn:")
                else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}"
            )
        return "*"

    # -- the in-process transport ---------------------------------------------------------

    def serve(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """Serve one of a workload's requests through moto, in this sandbox's account."""
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        from labkit.sandbox.emulator import fault_error, moto_application

        parts = urlsplit(str(payload["url"]))
        headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in payload["headers"].items()}
        headers["x-moto-account-id"] = self.sim.account_id
        builder = EnvironBuilder(
            path=parts.path or "/",
            query_string=parts.query,
            method=str(payload["method"]),
            headers=headers,
            data=payload["body"],
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        environ = builder.get_environ()
        # The path must reach moto exactly as signed (EnvironBuilder would decode it).
        environ["RAW_URI"] = environ["REQUEST_URI"] = parts.path + (f"?{parts.query}" if parts.query else "")
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, response_headers
            return lambda data: None

        try:
            app_iter, status, response_headers = run_wsgi_app(moto_application(), environ, buffered=True)
            body = b"".join(app_iter)
            code = int(str(status).split()[0])
            return code, dict(response_headers.to_wsgi_list()), body
        except Exception as exc:  # noqa: BLE001 - every fault becomes an AWS-shaped answer
            action = f"{payload['method']} {parts.path or '/'}"
            error_body = b"".join(fault_error(start_response, environ, action, exc))
            code = int(str(captured.get("status", "500")).split()[0])
            return code, dict(captured.get("headers", [])), error_body


def _denied(service: str, message: str) -> Exception:
    """AWS's access-denied error as each service words it."""
    return moto_seam.access_denied(service, message)
