"""`FixedPasswordAuthenticator`: a JupyterHub authenticator with users and passwords from a JSON file.

For trials and tests (`labkit hub config --authenticator fixed --passwords FILE`); a real workshop uses
PAM or one of JupyterHub's OAuth authenticators. Imported by JupyterHub only (it needs `jupyterhub`,
the `hub` extra). The file is read at each login, so an instructor can add a learner while the hub runs.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from traitlets import Unicode

from labkit.errors import LabkitError
from labkit.workshop.hub import read_passwords

__all__ = ["FixedPasswordAuthenticator"]


class FixedPasswordAuthenticator(Authenticator):  # type: ignore[misc]
    """Users and passwords from a JSON file (mode 0600), compared in constant time."""

    passwords_file = Unicode(config=True, help="A JSON object of user name to password, mode 0600.")

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = str(data.get("username", ""))
        given = str(data.get("password", ""))
        try:
            known = read_passwords(Path(self.passwords_file)).get(name)
        except LabkitError as exc:
            self.log.error("labkit: %s", exc)
            return None
        if known is None or not secrets.compare_digest(known.encode(), given.encode()):
            return None
        return name
