"""labkit's workshop service on JupyterHub: progress from learners' kernels, a dashboard for the hub's admins.

JupyterHub starts it (`c.JupyterHub.services`, written by `labkit hub config`) with its own API token
and OAuth client in the environment, and routes `/services/labkit/` to it. It binds 127.0.0.1 only.

- `POST /services/labkit/progress`: one progress event (`labkit.workshop.progress.validate_event`)
  with `Authorization: token <the learner's JupyterHub token>` (every single-user server has one,
  `JUPYTERHUB_API_TOKEN`, which its kernels inherit). The service asks the hub whose token it is
  (`HubAuth.user_for_token`) and records the event under that name: whatever the body says, a
  learner reports only for themselves. No labkit-specific key exists per learner.
- `GET /services/labkit/` (the dashboard, `WorkshopReport.to_html`) and `.../progress.csv`: through
  JupyterHub's OAuth (`HubOAuthenticated`), for users the hub says are admins; anyone else gets 403.
  By default only the admin role has `access:services`, so the hub itself refuses learners first.

See ARCHITECTURE.md, "Workshops, clean-up, Copilot, CLI".
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from labkit.sandbox.guards import is_loopback_url
from labkit.workshop.progress import EventLog, read_events, validate_event
from labkit.workshop.report import build_report

__all__ = ["main", "make_app"]

log = logging.getLogger("labkit.workshop.hub")

#: The largest progress event body accepted (an event is a few hundred bytes).
MAX_EVENT_BYTES = 4096


class _Admins(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
    """Pages for the hub's admins: logged in through the hub, and `admin` in the hub's user model."""

    def admin(self) -> dict[str, Any]:
        user = self.current_user
        if not user or not user.get("admin"):
            raise web.HTTPError(403, "the labkit dashboard is for the hub's admins")
        return dict(user)

    def report_events(self) -> list[dict[str, Any]]:
        return read_events(self.settings["labkit_events"].path)


class Dashboard(_Admins):
    @web.authenticated
    def get(self) -> None:
        self.admin()
        report = build_report(self.report_events(), [])
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(report.to_html())


class ProgressCsv(_Admins):
    @web.authenticated
    def get(self) -> None:
        self.admin()
        report = build_report(self.report_events(), [])
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(report.to_csv())


class Progress(web.RequestHandler):
    """A learner's kernel posts one event, authenticated with the learner's own JupyterHub token."""

    def check_xsrf_cookie(self) -> None:
        # Token-authenticated API: a browser's cookies never authenticate here.
        return None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        reason = self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            reason = exc.log_message
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"recorded": False, "error": reason}))

    async def post(self) -> None:
        scheme, _, token = (self.request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "token" or not token.strip():
            raise web.HTTPError(401, "send your JupyterHub token: Authorization: token ...")
        hub_auth: HubOAuth = self.settings["hub_auth"]
        user = await hub_auth.user_for_token(token.strip(), sync=False)
        if not user or user.get("kind", "user") != "user" or not isinstance(user.get("name"), str):
            raise web.HTTPError(403, "the hub does not know this token as a user's")
        if len(self.request.body) > MAX_EVENT_BYTES:
            raise web.HTTPError(413, f"an event is at most {MAX_EVENT_BYTES} bytes")
        try:
            event = validate_event(json.loads(self.request.body or b"null"))
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from None
        event["learner"] = user["name"]  # the hub's word, never the body's
        self.settings["labkit_events"].append(event)
        self.set_header("Content-Type", "application/json")
        self.write({"recorded": True})


class Health(web.RequestHandler):
    """`GET .../health`: the service answers (nothing else is said)."""

    def get(self) -> None:
        self.write({"ok": True})


def make_app(events: Path, hub_auth: HubOAuth | None = None) -> web.Application:
    """The service's tornado application; `hub_auth` is read from JupyterHub's environment by default."""
    hub_auth = hub_auth or HubOAuth(cache_max_age=60)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/services/labkit/"
    return web.Application(
        [
            (prefix, Dashboard),
            (url_path_join(prefix, "progress.csv"), ProgressCsv),
            (url_path_join(prefix, "progress"), Progress),
            (url_path_join(prefix, "health"), Health),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        ],
        hub_auth=hub_auth,
        labkit_events=EventLog(events, fresh=not events.exists()),
        cookie_secret=os.urandom(32),
        xsrf_cookies=False,
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m labkit.workshop.hub_service --events FILE`: run as a JupyterHub managed service."""
    parser = argparse.ArgumentParser(prog="labkit.workshop.hub_service", description=__doc__)
    parser.add_argument("--events", type=Path, required=True, help="the progress events file (JSON lines)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[labkit hub service] %(message)s")
    url = os.environ.get("JUPYTERHUB_SERVICE_URL", "")
    if not url or not is_loopback_url(url):
        print(f"labkit hub service: binds 127.0.0.1 only; JUPYTERHUB_SERVICE_URL is {url!r}", file=sys.stderr)
        return 2
    app = make_app(args.events)
    parsed = urlparse(url)
    app.listen(parsed.port or 80, address="127.0.0.1")
    log.info("listening on %s (events: %s)", url, args.events)
    ioloop.IOLoop.current().start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
