"""Container commands: the small part of a task definition's `entryPoint`/`command` the sandbox interprets.

Nothing a task definition says is ever run on the host. `interpret(entry_point, command)` reads the
container's argument list (entryPoint followed by command, as Docker joins them) and returns a
`CommandPlan`: what the container writes, how long it runs, and whether it exits (with which code) or
goes on serving as its image does. The subset interpreted, with shell words parsed by `shlex`:

- a shell: `sh -c SCRIPT`, `/bin/sh -c SCRIPT`, `bash -c SCRIPT`, `/bin/bash -c SCRIPT` (nested too:
  `entryPoint ["sh", "-c"]` with `command ["/bin/sh -c \"...\""]`, as AWS's tutorials write it);
- in a script: commands joined by `&&`, `||`, `;` or newlines, with the shell's short-circuit rules;
- `echo [-n] WORDS...`, optionally redirected with `> FILE` or `>> FILE`: the file is written in the
  container's own files (an httpd or nginx stand-in serves files written under its document root);
- `sleep N` (seconds; `s`, `m`, `h` suffixes): N emulated seconds pass;
- `exit [N]`, `true`, `false`, `:`, `mkdir [-p] DIR...` (directories need no making here), `cd DIR`;
- the image's own server in the foreground: `httpd-foreground`, `httpd -DFOREGROUND`,
  `nginx -g 'daemon off;'`, `nginx`: the container then serves (with the files written before);
- the same commands given directly (`["sleep", "360"]`), without a shell.

A script that ends without a server exits with its last status once its sleeps have passed (AWS: the
container stops; an essential one stops its task). Anything else (another program, a pipe, a variable,
a substitution, another redirection) is not interpreted: the container runs its image's default
behaviour from there, and `CommandPlan.not_interpreted` says what was not interpreted.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["CommandPlan", "interpret"]

_SHELLS = frozenset({"sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "ash", "/bin/ash"})
_OPERATORS = frozenset({"&&", "||", ";"})
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")
_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
#: Never more than this many commands (a script is a few lines; this bounds a hostile one).
_MAX_COMMANDS = 200
#: Never more than this much text written (the stand-in keeps it in memory).
_MAX_WRITTEN = 1 << 20


@dataclass
class CommandPlan:
    """What a container's command does in the sandbox.

    `serves`: the image's server runs (for good) once the command reaches it, or when nothing (or
    something not interpreted) is given; otherwise the container exits with `exit_code` after
    `seconds` emulated seconds. `files` maps absolute paths to what the command wrote there.
    """

    files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    serves: bool = True
    exit_code: int | None = None
    not_interpreted: str | None = None
    output: list[str] = field(default_factory=list)
    #: When each `output` text was printed: emulated seconds after the container started.
    output_at: list[float] = field(default_factory=list)

    @property
    def exits(self) -> bool:
        """Does the container exit (rather than serve)?"""
        return not self.serves


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Serve(Exception):
    pass


class _NotInterpreted(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def interpret(entry_point: Sequence[str] | None, command: Sequence[str] | None) -> CommandPlan:
    """The plan of a container whose task definition gives `entry_point` and `command` (either may be None)."""
    argv = [str(a) for a in (entry_point or [])] + [str(a) for a in (command or [])]
    plan = CommandPlan()
    if not argv:
        return plan  # the image's own entry point and command: it serves
    state = _Shell(plan)
    try:
        status = state.run_argv(argv)
    except _Exit as done:
        status = done.code
    except _Serve:
        return plan
    except _NotInterpreted as unknown:
        plan.not_interpreted = unknown.what
        return plan
    plan.serves = False
    plan.exit_code = status & 0xFF
    return plan


class _Shell:
    def __init__(self, plan: CommandPlan) -> None:
        self.plan = plan
        self.commands = 0
        self.cwd = "/"

    def run_argv(self, argv: list[str]) -> int:
        """Run one command given as an argument list (what exec would run)."""
        self.commands += 1
        if self.commands > _MAX_COMMANDS:
            raise _NotInterpreted(f"more than {_MAX_COMMANDS} commands")
        name = argv[0]
        if name in _SHELLS:
            if len(argv) >= 3 and argv[1] == "-c":
                # A shell's `exit` ends that shell only; its status is the command's.
                try:
                    return self.run_script(argv[2])
                except _Exit as done:
                    return done.code
            raise _NotInterpreted(" ".join(argv))
        return self.builtin(argv, redirect=None)

    def run_script(self, script: str) -> int:
        """Run a shell script of simple commands joined by `&&`, `||`, `;` and newlines."""
        lexer = shlex.shlex(script.replace("\n", " ; "), posix=True, punctuation_chars=";&|<>()")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError as exc:  # an unclosed quote: the shell would refuse it
            raise _NotInterpreted(f"{script!r} ({exc})") from None
        status = 0
        words: list[str] = []
        joiner = ";"
        for token in [*tokens, ";"]:
            if token not in _OPERATORS:
                words.append(token)
                continue
            if words:
                if joiner == ";" or (joiner == "&&" and status == 0) or (joiner == "||" and status != 0):
                    status = self.simple(words)
            elif token != ";" or joiner != ";":
                raise _NotInterpreted(f"{script!r} (an operator without a command)")
            words = []
            joiner = token
        return status

    def simple(self, words: list[str]) -> int:
        """One simple command with at most one `>`/`>>` redirection at its end."""
        redirect: tuple[str, str] | None = None
        if len(words) >= 2 and words[-2] in (">", ">>"):
            redirect = (words[-2], self._path(words[-1]))
            words = words[:-2]
        for word in words:
            if (
                word in ("|", "&", "|&", "<", ">", ">>", "(", ")", "<<", ">&", "&>")
                or "$" in word
                or "`" in word
            ):
                raise _NotInterpreted(" ".join(words))
        if not words:
            raise _NotInterpreted("a redirection without a command")
        self.commands += 1
        if self.commands > _MAX_COMMANDS:
            raise _NotInterpreted(f"more than {_MAX_COMMANDS} commands")
        return self.builtin(words, redirect)

    def builtin(self, argv: list[str], redirect: tuple[str, str] | None) -> int:
        name, args = argv[0], argv[1:]
        if name in _SHELLS:
            if redirect is not None:
                raise _NotInterpreted(" ".join(argv))
            return self.run_argv(argv)
        if name in ("echo", "/bin/echo"):
            newline = True
            if args and args[0] == "-n":
                newline, args = False, args[1:]
            text = " ".join(args) + ("\n" if newline else "")
            self._write(redirect, text)
            return 0
        if redirect is not None:
            raise _NotInterpreted(" ".join([*argv, *redirect]))
        if name in ("sleep", "/bin/sleep") and len(args) == 1:
            match = _DURATION.match(args[0])
            if match is None:
                raise _NotInterpreted(" ".join(argv))
            self.plan.seconds += float(match.group(1)) * _SECONDS[match.group(2)]
            return 0
        if name == "exit" and len(args) <= 1:
            if args and not args[0].isdigit():
                raise _NotInterpreted(" ".join(argv))
            raise _Exit(int(args[0]) if args else 0)
        if name in ("true", ":", "/bin/true") and not args:
            return 0
        if name in ("false", "/bin/false") and not args:
            return 1
        if name in ("mkdir", "/bin/mkdir") and args:
            return 0
        if name == "cd" and len(args) == 1:
            self.cwd = self._path(args[0])
            return 0
        if _is_foreground_server(argv):
            raise _Serve()
        raise _NotInterpreted(" ".join(argv))

    def _path(self, path: str) -> str:
        if "$" in path or "`" in path or not path:
            raise _NotInterpreted(path)
        joined = path if path.startswith("/") else f"{self.cwd.rstrip('/')}/{path}"
        parts: list[str] = []
        for part in joined.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def _write(self, redirect: tuple[str, str] | None, text: str) -> None:
        if redirect is None:
            self.plan.output.append(text)
            self.plan.output_at.append(self.plan.seconds)
            return
        operator, path = redirect
        if path == "/dev/null":
            return
        before = self.plan.files.get(path, "") if operator == ">>" else ""
        total = sum(len(v) for k, v in self.plan.files.items() if k != path) + len(before) + len(text)
        if total > _MAX_WRITTEN:
            raise _NotInterpreted(f"more than {_MAX_WRITTEN} characters written")
        self.plan.files[path] = before + text


def _is_foreground_server(argv: list[str]) -> bool:
    name = argv[0].rsplit("/", 1)[-1]
    if name == "httpd-foreground" and len(argv) == 1:
        return True
    if name == "httpd" and argv[1:] == ["-DFOREGROUND"]:
        return True
    return name == "nginx" and argv[1:] in ([], ["-g", "daemon off;"])
