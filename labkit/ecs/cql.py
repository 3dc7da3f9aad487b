"""The ECS cluster query language: parse an expression into a tree, evaluate it against an instance.

The grammar follows the ECS developer guide, "Cluster query language" (cluster-query-language):

    subject operator [argument]

Subjects: `agentConnected`, `agentVersion`, `attribute:NAME`, `ec2InstanceId`, `registeredAt`,
`runningTasksCount`, `task:group`. Operators: `==`/`equals`, `!=`/`not_equals`, `>`/`greater_than`,
`>=`/`greater_than_equal`, `<`/`less_than`, `<=`/`less_than_equal`, `exists`, `!exists`/`not_exists`,
`in`, `!in`/`not_in`, `=~`/`matches`, `!~`/`not_matches`. Argument lists are written `[a, b]` (the
guide's form; `(a, b)` is accepted too). Compound expressions use `&&`/`and`, `||`/`or`, `!`/`not`
and parentheses; `not` binds tighter than `and`, which binds tighter than `or`.

Choices where the guide is silent (each is tested):
- Values are bare words (`t2.micro`, `us-east-1a`, `service:web`, `2018-06-18T22:28:28Z`) or quoted
  with single or double quotes (the guide's own example is `ec2InstanceId in ['i-abcd1234', ...]`).
- `=~` takes a Java regular expression (the guide links java.util.regex.Pattern); it must match the
  whole value, as Java's `Pattern.matches` does, so `t2.*` selects `t2.micro` and not `xt2.micro`.
  The shared emulator bounds a pattern (`MAX_PATTERN_LENGTH`, `MAX_PATTERN_CHOICES`, no nested
  repetition, no backreference) so that none can backtrack for minutes; see `_compile_pattern`.
- An instance without the attribute satisfies only `!exists`: the guide's example
  `attribute:stack != prod` "lists the instances with the custom attribute stack unless the attribute
  value is prod".
- `>`, `<`, ... on an attribute compare numbers when both sides are numbers, text otherwise;
  `agentVersion` compares dotted versions; `registeredAt` with a date alone compares calendar days
  (UTC), with a time compares instants (a time without zone is UTC).
- `task:group == G` is true when the instance runs a task of group G; `!=`, `!in` and `!~` are the
  negations of `==`, `in` and `=~` (the instance runs no task of such a group).
- The guide lists the valid operators of each subject; other pairs are errors. It lists none for
  `attribute:` (all are allowed) nor for `task:group` (equality, lists and patterns are allowed).
"""

from __future__ import annotations

import importlib
import operator as _op
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Protocol

__all__ = [
    "SUBJECTS",
    "And",
    "ClusterQueryError",
    "Comparison",
    "Expression",
    "InstanceFacts",
    "Not",
    "Or",
    "evaluate",
    "matches",
    "parse",
]

SUBJECTS = (
    "agentConnected",
    "agentVersion",
    "attribute:NAME",
    "ec2InstanceId",
    "registeredAt",
    "runningTasksCount",
    "task:group",
)

_EQUALITY = ("==", "!=")
_ORDER = (">", ">=", "<", "<=")
_LIST = ("in", "!in")
_PATTERN = ("=~", "!~")
_EXISTENCE = ("exists", "!exists")

# Valid operators per subject, from the guide's "Valid operators" lines.
_VALID_OPERATORS: dict[str, tuple[str, ...]] = {
    "agentConnected": _EQUALITY + _LIST + _PATTERN,
    "agentVersion": _EQUALITY + _ORDER,
    "attribute": _EQUALITY + _ORDER + _EXISTENCE + _LIST + _PATTERN,
    "ec2InstanceId": _EQUALITY + _LIST + _PATTERN,
    "registeredAt": _EQUALITY + _ORDER,
    "runningTasksCount": _EQUALITY + _ORDER,
    "task:group": _EQUALITY + _LIST + _PATTERN,
}

_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _op.eq,
    "!=": _op.ne,
    ">": _op.gt,
    ">=": _op.ge,
    "<": _op.lt,
    "<=": _op.le,
}

_WORD_OPERATORS = {
    "equals": "==",
    "not_equals": "!=",
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
    "exists": "exists",
    "not_exists": "!exists",
    "in": "in",
    "not_in": "!in",
    "matches": "=~",
    "not_matches": "!~",
}

# Attribute names: 1 to 128 letters, digits, hyphens, underscores, slashes, back slashes or periods
# (the guide's "Custom attributes" rules).
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_\-./\\]{1,128}")
_INTEGER = re.compile(r"[0-9]+")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")


class ClusterQueryError(ValueError):
    """A cluster query language expression that cannot be parsed, with where and what was expected."""

    def __init__(self, expression: str, position: int, problem: str, hint: str = "") -> None:
        message = f"{problem} at position {position}" + (f"; {hint}" if hint else "")
        super().__init__(message)
        self.expression = expression
        self.position = position
        self.problem = problem
        self.message = message

    def pointer(self) -> str:
        """The expression with a caret under the position, for a learner's error output."""
        return f"{self.expression}\n{' ' * self.position}^"


class InstanceFacts(Protocol):
    """What the subjects read from a container instance (`placement.Instance` satisfies it)."""

    @property
    def attributes(self) -> Mapping[str, str | None]: ...

    @property
    def ec2_instance_id(self) -> str: ...

    @property
    def registered_at(self) -> datetime: ...

    @property
    def running_tasks_count(self) -> int: ...

    @property
    def agent_connected(self) -> bool: ...

    @property
    def agent_version(self) -> str: ...

    @property
    def task_groups(self) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class Comparison:
    """`subject operator [argument]`: operator is canonical (`==`, `in`, `=~`, `!exists`, ...)."""

    subject: str
    operator: str
    values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        if self.operator in _EXISTENCE:
            return f"{self.subject} {self.operator}"
        if self.operator in _LIST:
            return f"{self.subject} {self.operator} [{', '.join(_quote(v) for v in self.values)}]"
        return f"{self.subject} {self.operator} {_quote(self.values[0])}"


@dataclass(frozen=True)
class And:
    """Both operands hold."""

    left: Expression
    right: Expression

    def __str__(self) -> str:
        return f"({self.left} and {self.right})"


@dataclass(frozen=True)
class Or:
    """Either operand holds."""

    left: Expression
    right: Expression

    def __str__(self) -> str:
        return f"({self.left} or {self.right})"


@dataclass(frozen=True)
class Not:
    """The operand does not hold."""

    operand: Expression

    def __str__(self) -> str:
        return f"not ({self.operand})"


Expression = Comparison | And | Or | Not


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "quoted", "op", "and", "or", "not", "(", ")", "[", "]", ",", "end"
    text: str
    start: int


_TWO_CHAR_OPERATORS = ("==", "!=", "=~", "!~", ">=", "<=")
_WORD_STOP = set(" \t\r\n()[],'\"")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        pair = text[i : i + 2]
        if ch in "()[],":
            tokens.append(_Token(ch, ch, i))
            i += 1
        elif pair in ("&&", "||"):
            tokens.append(_Token("and" if pair == "&&" else "or", pair, i))
            i += 2
        elif pair in _TWO_CHAR_OPERATORS:
            tokens.append(_Token("op", pair, i))
            i += 2
        elif ch in "<>":
            tokens.append(_Token("op", ch, i))
            i += 1
        elif ch == "!":
            # `!exists` and `!in` are operators; any other `!` is the boolean not.
            word = re.match(r"!(exists|in)\b", text[i:])
            if word:
                tokens.append(_Token("op", word.group(0), i))
                i += len(word.group(0))
            else:
                tokens.append(_Token("not", "!", i))
                i += 1
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ClusterQueryError(text, i, f"unterminated quoted value (opening {ch})")
            tokens.append(_Token("quoted", text[i + 1 : end], i))
            i = end + 1
        else:
            start = i
            while i < n and text[i] not in _WORD_STOP:
                # A word ends where an operator starts, so `attribute:stack==prod` also parses.
                if text[i : i + 2] in (*_TWO_CHAR_OPERATORS, "&&", "||") or text[i] in "<>":
                    break
                i += 1
            tokens.append(_Token("word", text[start:i], start))
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, problem: str, token: _Token | None = None, hint: str = "") -> ClusterQueryError:
        return ClusterQueryError(self.text, (token or self.token).start, problem, hint)

    def is_keyword(self, kind: str) -> bool:
        # `and`, `or`, `not` are keywords only as bare words; a quoted 'and' is a value.
        token = self.token
        return token.kind == kind or (token.kind == "word" and token.text == kind)

    def parse(self) -> Expression:
        expression = self.parse_or()
        if self.token.kind != "end":
            raise self.error(
                f"unexpected {_show(self.token)}",
                hint="expected 'and', 'or', ')' or the end of the expression",
            )
        return expression

    def parse_or(self) -> Expression:
        expression = self.parse_and()
        while self.is_keyword("or"):
            self.advance()
            expression = Or(expression, self.parse_and())
        return expression

    def parse_and(self) -> Expression:
        expression = self.parse_not()
        while self.is_keyword("and"):
            self.advance()
            expression = And(expression, self.parse_not())
        return expression

    def parse_not(self) -> Expression:
        if self.is_keyword("not"):
            self.advance()
            return Not(self.parse_not())
        return self.parse_primary()

    def parse_primary(self) -> Expression:
        if self.token.kind == "(":
            opening = self.advance()
            expression = self.parse_or()
            if self.token.kind != ")":
                raise self.error(
                    f"expected ')' to close the '(' at position {opening.start}, found {_show(self.token)}"
                )
            self.advance()
            return expression
        return self.parse_comparison()

    def parse_comparison(self) -> Comparison:
        token = self.token
        if token.kind != "word":
            raise self.error(f"expected a subject, found {_show(token)}", hint=_subjects_hint())
        subject_token = self.advance()
        subject = subject_token.text
        family = self.subject_family(subject_token)

        op_token = self.token
        if op_token.kind == "op":
            operator = op_token.text
        elif op_token.kind == "word" and op_token.text in _WORD_OPERATORS:
            operator = _WORD_OPERATORS[op_token.text]
        else:
            raise self.error(
                f"expected an operator after '{subject}', found {_show(op_token)}",
                hint="operators: ==, !=, >, >=, <, <=, exists, !exists, in, !in, =~, !~",
            )
        self.advance()
        valid = _VALID_OPERATORS[family]
        if operator not in valid:
            raise self.error(
                f"operator '{op_token.text}' is not valid for {subject}",
                op_token,
                hint=f"valid operators: {', '.join(valid)}",
            )

        if operator in _EXISTENCE:
            return Comparison(subject, operator)
        if operator in _LIST:
            values = self.parse_list(op_token)
        else:
            if self.token.kind not in ("word", "quoted"):
                raise self.error(f"expected a value after '{op_token.text}'")
            values = (self.advance().text,)
        value_token = self.tokens[self.index - 1]
        for value in values:
            self.check_value(family, subject, operator, value, value_token)
        pattern = None
        if operator in _PATTERN:
            try:
                pattern = _compile_pattern(values[0])
            except re.error as exc:
                raise self.error(f"invalid pattern {values[0]!r} ({exc})", value_token) from None
            except ValueError as exc:
                raise self.error(f"pattern {values[0]!r} not accepted: {exc}", value_token) from None
        return Comparison(subject, operator, values, pattern)

    def parse_list(self, op_token: _Token) -> tuple[str, ...]:
        opening = self.token
        if opening.kind not in ("[", "("):
            raise self.error(
                f"expected a list such as [a, b] after '{op_token.text}', found {_show(opening)}"
            )
        closing = "]" if opening.kind == "[" else ")"
        self.advance()
        values: list[str] = []
        while True:
            if self.token.kind not in ("word", "quoted"):
                raise self.error(f"expected a value in the list, found {_show(self.token)}")
            values.append(self.advance().text)
            if self.token.kind == ",":
                self.advance()
                continue
            if self.token.kind == closing:
                self.advance()
                return tuple(values)
            raise self.error(f"expected ',' or '{closing}' in the list, found {_show(self.token)}")

    def subject_family(self, token: _Token) -> str:
        subject = token.text
        if subject.startswith("attribute:"):
            name = subject[len("attribute:") :]
            if not _ATTRIBUTE_NAME.fullmatch(name):
                raise self.error(
                    f"invalid attribute name {name!r}",
                    token,
                    hint="names are 1 to 128 letters, digits, '-', '_', '.', '/' or '\\'",
                )
            return "attribute"
        if subject in _VALID_OPERATORS and subject != "attribute":
            return subject
        hint = _subjects_hint()
        if subject.startswith("attributes:"):
            hint = f"did you mean 'attribute:{subject[len('attributes:') :]}'?"
        raise self.error(f"unknown subject '{subject}'", token, hint=hint)

    def check_value(self, family: str, subject: str, operator: str, value: str, token: _Token) -> None:
        if family == "runningTasksCount" and not _INTEGER.fullmatch(value):
            raise self.error(f"{subject} needs a whole number, got {value!r}", token)
        if family == "agentVersion" and not _VERSION.fullmatch(value):
            raise self.error(f"{subject} needs a version such as 1.14.5, got {value!r}", token)
        if family == "registeredAt":
            try:
                _parse_when(value)
            except ValueError:
                raise self.error(
                    f"{subject} needs a date such as 2018-06-18 or 2018-06-18T22:28:28Z, got {value!r}",
                    token,
                ) from None
        if family == "agentConnected" and operator not in _PATTERN and value.lower() not in ("true", "false"):
            raise self.error(f"{subject} is true or false, got {value!r}", token)


def parse(expression: str) -> Expression:
    """Parse a cluster query language expression into a tree of frozen dataclasses.

    Raises ClusterQueryError (a ValueError) with the 0-based position and what was expected there.
    """
    return _Parser(expression).parse()


def evaluate(expression: Expression, instance: InstanceFacts) -> bool:
    """Return whether the instance satisfies the parsed expression."""
    if isinstance(expression, And):
        return evaluate(expression.left, instance) and evaluate(expression.right, instance)
    if isinstance(expression, Or):
        return evaluate(expression.left, instance) or evaluate(expression.right, instance)
    if isinstance(expression, Not):
        return not evaluate(expression.operand, instance)
    return _compare(expression, instance)


def matches(expression_text: str, instance: InstanceFacts) -> bool:
    """Parse (cached) and evaluate an expression against one instance.

    Raises ClusterQueryError for an expression that cannot be parsed.
    """
    return evaluate(_parse_cached(expression_text), instance)


@lru_cache(maxsize=256)
def _parse_cached(expression_text: str) -> Expression:
    return parse(expression_text)


def _compare(comparison: Comparison, instance: InstanceFacts) -> bool:
    subject, operator, values = comparison.subject, comparison.operator, comparison.values
    if subject == "task:group":
        groups = [group for group, count in instance.task_groups.items() if count > 0]
        # Positive operators ask "runs a task of such a group"; negative ones are their negation.
        positive = {"==": "==", "!=": "==", "in": "in", "!in": "in", "=~": "=~", "!~": "=~"}[operator]
        found = any(_compare_text(group, positive, values, comparison.pattern) for group in groups)
        return found if positive == operator else not found
    if subject.startswith("attribute:"):
        name = subject[len("attribute:") :]
        present = name in instance.attributes
        if operator in _EXISTENCE:
            return present == (operator == "exists")
        if not present:
            return False
        value = instance.attributes[name] or ""
        if operator in _ORDER:
            return _order(_attribute_key(value, values[0]), operator)
        return _compare_text(value, operator, values, comparison.pattern)
    if subject == "ec2InstanceId":
        return _compare_text(instance.ec2_instance_id, operator, values, comparison.pattern)
    if subject == "agentConnected":
        connected = "true" if instance.agent_connected else "false"
        lowered = tuple(v.lower() for v in values)
        return _compare_text(connected, operator, lowered, comparison.pattern)
    if subject == "agentVersion":
        left, right = _version(instance.agent_version), _version(values[0])
        return _order((left, right), operator)
    if subject == "registeredAt":
        when, date_only = _parse_when(values[0])
        registered = _as_utc(instance.registered_at)
        if date_only:
            return _order((registered.date(), when.date()), operator)
        return _order((registered, when), operator)
    if subject == "runningTasksCount":
        return _order((instance.running_tasks_count, int(values[0])), operator)
    raise AssertionError(f"parser let through an unknown subject {subject!r}")


#: Bounds on a learner's `=~` pattern. Python's `re` backtracks, and one workshop sandbox serves
#: every learner: `(a+)+$` against a long value would hold the emulator for minutes. With at most
#: three choice points (`*`, `+`, `?`, `{m,n}`, `|`), none inside a repeated item, and no
#: backreference, matching a value of ECS's lengths (attribute values and task groups, at most 255
#: characters; a longer value never matches) takes milliseconds. These are labkit's limits, not AWS's.
MAX_PATTERN_LENGTH = 256
MAX_PATTERN_CHOICES = 3
MAX_MATCHED_VALUE = 255

_sre: Any = importlib.import_module("re._parser")
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_BACKREFERENCES = {
    "GROUPREF",
    "GROUPREF_EXISTS",
    "GROUPREF_IGNORE",
    "GROUPREF_LOC_IGNORE",
    "GROUPREF_UNI_IGNORE",
}


def _compile_pattern(text: str) -> re.Pattern[str]:
    """Compile a `=~` pattern within the bounds above: ValueError (learner-worded) or re.error otherwise."""
    if len(text) > MAX_PATTERN_LENGTH:
        raise ValueError(f"a pattern is at most {MAX_PATTERN_LENGTH} characters in labkit's sandbox")
    compiled = re.compile(text)
    choices = _choice_points(_sre.parse(text), repeated=False)
    if choices > MAX_PATTERN_CHOICES:
        raise ValueError(
            f"a pattern has at most {MAX_PATTERN_CHOICES} repetitions or alternatives in labkit's "
            f"sandbox (this one has {choices}); `.*` usually does the work of several"
        )
    return compiled


def _choice_points(items: Any, *, repeated: bool) -> int:
    """Count the repetitions and alternations of a parsed pattern; refuse nesting and backreferences."""
    count = 0
    for op, argument in items:
        name = str(op)
        if name in _BACKREFERENCES:
            raise ValueError("backreferences are not supported in labkit's sandbox")
        if name in _REPEATS or name == "BRANCH":
            if repeated:
                raise ValueError(
                    "a repeated part of a pattern cannot itself repeat or have alternatives "
                    "(such as (a+)+ or (a|b)*): it can take exponential time"
                )
            count += 1
        if name in _REPEATS:
            _low, high, inner = argument
            count += _choice_points(inner, repeated=repeated or high > 1)
        elif name == "BRANCH":
            count += sum(_choice_points(branch, repeated=repeated) for branch in argument[1])
        elif name == "ATOMIC_GROUP":
            count += _choice_points(argument, repeated=repeated)
        elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT"):
            count += _choice_points(argument[-1], repeated=repeated)
    return count


def _compare_text(
    value: str, operator: str, values: tuple[str, ...], pattern: re.Pattern[str] | None
) -> bool:
    if operator == "==":
        return value == values[0]
    if operator == "!=":
        return value != values[0]
    if operator == "in":
        return value in values
    if operator == "!in":
        return value not in values
    assert pattern is not None, "the parser compiles a pattern for =~ and !~"
    # ECS's values are short (attribute values 128 characters, task groups 255); a longer one is
    # not matched at all, so that no value stretches a pattern's bounded backtracking.
    found = len(value) <= MAX_MATCHED_VALUE and pattern.fullmatch(value) is not None
    return found if operator == "=~" else not found


def _order(pair: tuple[Any, Any], operator: str) -> bool:
    # Both sides have one comparable type (int, float, str, tuple, date, datetime) by construction.
    return _RELATIONS[operator](*pair)


def _attribute_key(value: str, argument: str) -> tuple[object, object]:
    try:
        return float(value), float(argument)
    except ValueError:
        return value, argument


def _version(text: str) -> tuple[int, ...]:
    # Agent versions are dotted numbers; anything else in an instance's version sorts as 0.
    return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))


def _parse_when(text: str) -> tuple[datetime, bool]:
    """(instant in UTC, whether only a date was given); the guide's four formats and no others."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?", text):
        raise ValueError(f"not a registeredAt date: {text!r}")
    return _as_utc(datetime.fromisoformat(text)), False


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _quote(value: str) -> str:
    if (
        value
        and not any(ch in _WORD_STOP or ch in "<>=!&|" for ch in value)
        and value not in ("and", "or", "not")
    ):
        return value
    return f"'{value}'" if "'" not in value else f'"{value}"'


def _show(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    return f"'{token.text}'"


def _subjects_hint() -> str:
    return "subjects: " + ", ".join(SUBJECTS)
