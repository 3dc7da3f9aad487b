"""`workshop` mode: a learner's sandbox on the instructor's workshop server.

The learner's connection file (`LABKIT_WORKSHOP`, or `connection=` given) holds the server's
loopback URL, the learner's account and emulated credentials, and the learner's token. Requests are
signed with the learner's own secret, which is what puts them in the learner's account.
"""

from __future__ import annotations

import os
from pathlib import Path

from labkit.errors import LabkitError
from labkit.sandbox.control import ControlClient, ControlledSandbox
from labkit.sandbox.guards import CredentialsMismatchError
from labkit.workshop.progress import ProgressReporter, load_connection

__all__ = ["WorkshopSandbox"]


class WorkshopSandbox(ControlledSandbox):
    """A learner's account on a workshop server, reached with the learner's own credentials.

    Raises `LabkitError` when no connection file is named or it cannot be read, and
    `CredentialsMismatchError` when its credentials are not a workshop's emulated ones.
    """

    mode = "workshop"

    def __init__(self, *, connection: Path | str | None = None, lab: str | None = None) -> None:
        from labkit.workshop.server import LEARNER_KEY_PREFIX

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
