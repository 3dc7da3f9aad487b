"""The learner's side of a workshop: the `workshop` sandbox mode, its connection file, progress events.

A workshop server (`labkit.workshop.server`) gives each learner a connection file (`LABKIT_WORKSHOP`,
or `connection=` given) holding the server's loopback URL, the learner's account, emulated
credentials and token. Requests are signed with the learner's own secret, which is what puts them in
the learner's account. This client lives with the other sandboxes, below the workshop server that
imports it (ARCHITECTURE.md, "Workshops, clean-up, Copilot, CLI").

A learner's `open_lab(...)` posts progress events (open, check, hint, catch-up) to the server with
`ProgressReporter`; an event that cannot be delivered is logged and dropped: the learner's lab never
fails because the instructor's server is away.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from labkit.errors import LabkitError
from labkit.sandbox.control import ControlClient, ControlledSandbox
from labkit.sandbox.emulator import CONTROL_PREFIX, TOKEN_HEADER
from labkit.sandbox.guards import CredentialsMismatchError, is_loopback_url

__all__ = [
    "HUB_PROGRESS_VARIABLE",
    "LEARNER_KEY_PREFIX",
    "ProgressReporter",
    "WorkshopSandbox",
    "load_connection",
    "reporter_from_env",
]

log = logging.getLogger("labkit.workshop")

#: Emulated access key ids of workshop learners start with this, so a guard can tell them from real ones.
LEARNER_KEY_PREFIX = "AKIALABKITW"


class ProgressReporter:
    """Posts a learner's progress events to the workshop server with the learner's token.

    `hub_url` instead of `workshop_url`: the progress URL of labkit's JupyterHub service, which the
    hub gives each learner's server (`LABKIT_HUB_PROGRESS_URL`); the token is then the learner's own
    JupyterHub token (`JUPYTERHUB_API_TOKEN`), sent as JupyterHub expects it.
    """

    def __init__(
        self, workshop_url: str | None, token: str, *, timeout: float = 2.0, hub_url: str | None = None
    ) -> None:
        self.failures = 0
        self.timeout = timeout
        self._token = token
        if hub_url is not None:
            if not hub_url.startswith(("http://", "https://")):
                raise ValueError(f"the hub's progress URL must be http(s), not {hub_url}")
            # On Kubernetes the hub's service is not on the learner's loopback; the URL is the hub's word.
            self.url = hub_url
            self._headers = {"Authorization": f"token {token}"}
            return
        if workshop_url is None or not is_loopback_url(workshop_url):
            # A workshop server binds loopback; anything else is not ours to send progress to.
            raise ValueError(f"a workshop server is on 127.0.0.1, not {workshop_url}")
        self.url = workshop_url.rstrip("/") + CONTROL_PREFIX + "/workshop/progress"
        self._headers = {TOKEN_HEADER: token}

    def send(self, kind: str, lab: str, checkpoint: str | None = None, status: str | None = None) -> bool:
        """Post one event now; return False (and log why) when the server did not record it."""
        event = {
            "kind": kind,
            "lab": lab,
            "checkpoint": checkpoint,
            "status": status,
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        request = urllib.request.Request(
            self.url,
            data=json.dumps(event).encode(),
            method="POST",
            headers={**self._headers, "Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return bool(json.loads(response.read() or b"{}").get("recorded"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.failures += 1
            log.warning("progress event not delivered to the workshop: %s", exc)
            return False


def load_connection(path: Path) -> dict[str, str]:
    """Read a learner's connection file; raises `LabkitError` naming the file when it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LabkitError(f"workshop connection file {path} cannot be read: {exc}") from exc
    needed = ("workshop_url", "region", "learner", "account_id", "session_id", "access_key_id")
    missing = [k for k in (*needed, "secret_access_key", "token") if not isinstance(data.get(k), str)]
    if missing:
        raise LabkitError(f"workshop connection file {path} lacks {', '.join(missing)}")
    return {k: str(v) for k, v in data.items()}


#: Set by `labkit hub config` in each learner's single-user server: where progress events go.
HUB_PROGRESS_VARIABLE = "LABKIT_HUB_PROGRESS_URL"


def reporter_from_env() -> ProgressReporter | None:
    """The reporter of the learner's workshop: named by `LABKIT_WORKSHOP` (a workshop server), or on
    JupyterHub by `LABKIT_HUB_PROGRESS_URL` with the server's `JUPYTERHUB_API_TOKEN`; else None."""
    where = os.environ.get("LABKIT_WORKSHOP")
    hub_url = os.environ.get(HUB_PROGRESS_VARIABLE)
    hub_token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not where and hub_url and hub_token:
        return ProgressReporter(None, hub_token, hub_url=hub_url)
    if not where:
        return None
    details = load_connection(Path(where))
    return ProgressReporter(details["workshop_url"], details["token"])


class WorkshopSandbox(ControlledSandbox):
    """A learner's account on a workshop server, reached with the learner's own credentials.

    Raises `LabkitError` when no connection file is named or it cannot be read, and
    `CredentialsMismatchError` when its credentials are not a workshop's emulated ones.
    """

    mode = "workshop"

    def __init__(self, *, connection: Path | str | None = None, lab: str | None = None) -> None:
        where = connection or os.environ.get("LABKIT_WORKSHOP")
        if not where:
            raise LabkitError(
                "workshop mode needs the learner's connection file: set LABKIT_WORKSHOP to its path"
            )
        details = load_connection(Path(where))
        if not details["access_key_id"].startswith(LEARNER_KEY_PREFIX):
            raise CredentialsMismatchError(
                "workshop", f"the connection file {where} holds credentials that are not a workshop's"
            )
        self.learner = details["learner"]
        super().__init__(
            endpoint_url=details["workshop_url"],
            region=details["region"],
            account_id=details["account_id"],
            session_id=details["session_id"],
            lab=lab,
        )
        # The isolated session has labkit's shared fake keys; a workshop learner signs with their own.
        self._session._session.set_credentials(details["access_key_id"], details["secret_access_key"])
        self._control = ControlClient(details["workshop_url"], details["token"])
        self._details = details
        self._access_key_id = details["access_key_id"]
        self._secret_access_key = details["secret_access_key"]

    def reporter(self) -> ProgressReporter:
        """The progress reporter of this learner (posts with the learner's token)."""
        return ProgressReporter(self._details["workshop_url"], self._details["token"])

    @property
    def clock_mode(self) -> str:
        return str(self._control.request("GET", "/clock")["mode"])

    def exports(self) -> dict[str, str | None]:
        values = super().exports()
        values["AWS_ACCESS_KEY_ID"] = self._access_key_id
        values["AWS_SECRET_ACCESS_KEY"] = self._secret_access_key
        return values

    def close(self) -> None:
        return None
