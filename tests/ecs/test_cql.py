"""Cluster query language: every subject and operator, precedence, and errors with positions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from labkit.ecs.cql import And, ClusterQueryError, Comparison, Not, Or, evaluate, matches, parse
from labkit.ecs.placement import Instance

T2 = Instance(
    arn="arn:aws:ecs:us-east-1:123456789012:container-instance/lab/a",
    ec2_instance_id="i-abcd1234",
    registered_cpu=1024,
    registered_memory=985,
    remaining_cpu=1024,
    remaining_memory=985,
    attributes={"ecs.instance-type": "t2.micro", "ecs.availability-zone": "us-east-1a", "stack": "prod"},
    task_groups={"service:web": 2, "family:batch": 1, "service:gone": 0},
    registered_at=datetime(2018, 2, 12, 22, 0, tzinfo=UTC),
    agent_connected=True,
    agent_version="1.14.4",
)
M5 = Instance(
    arn="arn:aws:ecs:us-east-1:123456789012:container-instance/lab/b",
    ec2_instance_id="i-wxyx7890",
    registered_cpu=2048,
    registered_memory=7800,
    remaining_cpu=2048,
    remaining_memory=7800,
    attributes={"ecs.instance-type": "m5.large", "ecs.availability-zone": "us-east-1d", "weight": "10"},
    task_groups={},
    registered_at=datetime(2018, 6, 18, 22, 28, 28, tzinfo=UTC),
    agent_connected=False,
    agent_version="1.80.0",
)


class TestSubjectsAndOperators:
    @pytest.mark.parametrize(
        ("expression", "on_t2", "on_m5"),
        [
            # The course notes' memberOf example, corrected from `attributes:` to `attribute:`.
            ("attribute:ecs.instance-type =~ t2.*", True, False),
            ("attribute:ecs.instance-type matches t2.*", True, False),
            ("attribute:ecs.instance-type !~ t2.*", False, True),
            ("attribute:ecs.instance-type not_matches t2.*", False, True),
            ("attribute:ecs.instance-type == t2.micro", True, False),
            ("attribute:ecs.instance-type equals t2.micro", True, False),
            ("attribute:ecs.availability-zone != us-east-1d", True, False),
            ("attribute:ecs.availability-zone not_equals us-east-1d", True, False),
            ("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", True, False),
            ("attribute:ecs.availability-zone in (us-east-1a, us-east-1b)", True, False),
            ("attribute:ecs.availability-zone not_in [us-east-1a]", False, True),
            ("attribute:ecs.availability-zone !in [us-east-1a]", False, True),
            ("attribute:stack exists", True, False),
            ("attribute:stack !exists", False, True),
            ("attribute:stack not_exists", False, True),
            ("attribute:weight > 9", False, True),
            ("attribute:weight greater_than 9", False, True),
            ("attribute:weight >= 10", False, True),
            ("attribute:weight < 10.5", False, True),
            ("attribute:weight <= 9", False, False),
            ("ec2InstanceId == i-abcd1234", True, False),
            ("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", True, True),
            ("ec2InstanceId =~ i-w.*", False, True),
            ("agentConnected == true", True, False),
            ("agentConnected != true", False, True),
            ("agentConnected in [false]", False, True),
            ("agentVersion < 1.14.5", True, False),
            ("agentVersion >= 1.14.5", False, True),
            ("agentVersion == 1.80.0", False, True),
            ("registeredAt < 2018-02-13", True, False),
            ("registeredAt == 2018-02-12", True, False),
            ("registeredAt >= 2018-06-18T22:28:28+00:00", False, True),
            ("registeredAt == 2018-06-18T22:28:28Z", False, True),
            ("registeredAt > 2018-06-18T22:28:27", False, True),
            ("runningTasksCount == 3", True, False),
            ("runningTasksCount == 0", False, True),
            ("runningTasksCount > 1", True, False),
            ("runningTasksCount less_than_equal 0", False, True),
            ("task:group == service:web", True, False),
            ("task:group != service:web", False, True),
            ("task:group in [family:batch, service:api]", True, False),
            ("task:group =~ service:.*", True, False),
            ("task:group == service:gone", False, False),
        ],
    )
    def test_operator(self, expression: str, on_t2: bool, on_m5: bool) -> None:
        """Each subject/operator pair selects the instances the ECS guide says it selects."""
        assert matches(expression, T2) is on_t2
        assert matches(expression, M5) is on_m5

    def test_missing_attribute_satisfies_only_not_exists(self) -> None:
        """Without the attribute, `!=` is false too (the guide: `!=` lists instances that have it)."""
        assert not matches("attribute:stack != prod", M5)
        assert not matches("attribute:stack not_in [prod]", M5)
        assert matches("attribute:stack !exists", M5)

    def test_pattern_must_match_the_whole_value(self) -> None:
        """`=~` matches the whole value, as Java's Pattern.matches does."""
        assert not matches("attribute:ecs.instance-type =~ 2.micro", T2)
        assert matches("attribute:ecs.instance-type =~ 't2\\.(micro|small)'", T2)

    def test_operator_without_spaces(self) -> None:
        """An operator written without spaces still separates subject and value."""
        assert matches("attribute:stack==prod", T2)


class TestCompoundExpressions:
    def test_and_binds_tighter_than_or(self) -> None:
        """`a or b and c` is `a or (b and c)`."""
        tree = parse("runningTasksCount == 3 or runningTasksCount == 0 and agentConnected == true")
        assert isinstance(tree, Or)
        assert isinstance(tree.right, And)
        assert matches("runningTasksCount == 3 or runningTasksCount == 0 and agentConnected == true", T2)
        assert not matches("runningTasksCount == 3 or runningTasksCount == 0 and agentConnected == true", M5)

    def test_parentheses_override_precedence(self) -> None:
        """Parentheses group an `or` before an `and`."""
        text = "(runningTasksCount == 3 or runningTasksCount == 0) and agentConnected == true"
        assert isinstance(parse(text), And)
        assert matches(text, T2)
        assert not matches(text, M5)

    def test_not_binds_tighter_than_and(self) -> None:
        """`not a and b` is `(not a) and b`, and `!` is the same as `not`."""
        tree = parse("not agentConnected == true and runningTasksCount == 0")
        assert isinstance(tree, And)
        assert isinstance(tree.left, Not)
        assert parse("! agentConnected == true && runningTasksCount == 0") == tree
        assert matches("not agentConnected == true and runningTasksCount == 0", M5)

    def test_symbolic_boolean_operators(self) -> None:
        """`&&` and `||` are `and` and `or`."""
        assert parse("agentConnected == true || runningTasksCount == 0") == parse(
            "agentConnected == true or runningTasksCount == 0"
        )

    def test_task_anti_affinity(self) -> None:
        """The guide's anti-affinity example `not(task:group == database)` selects hosts without it."""
        assert matches("not(task:group == database)", T2)
        assert not matches("not(task:group == service:web)", T2)

    def test_guide_compound_example(self) -> None:
        """The guide's compound example parses to an `and` of two comparisons."""
        tree = parse("attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d")
        assert tree == And(
            Comparison("attribute:ecs.instance-type", "=~", ("g2.*",)),
            Comparison("attribute:ecs.availability-zone", "!=", ("us-east-1d",)),
        )

    def test_text_round_trip(self) -> None:
        """Rendering a parsed expression and parsing it again gives the same tree."""
        text = "not (task:group in [service:a, 'b c']) and (registeredAt < 2018-02-13 or attribute:x exists)"
        tree = parse(text)
        assert parse(str(tree)) == tree

    def test_evaluate_takes_a_parsed_tree(self) -> None:
        """evaluate() on a parsed tree gives the same answer as matches() on the text."""
        assert evaluate(parse("task:group == service:web"), T2) is True


class TestErrors:
    @pytest.mark.parametrize(
        ("expression", "position", "message"),
        [
            ("attribute:ecs.instance-type ==", 30, "expected a value after '==' at position 30"),
            ("attribute:ecs.instance-type == ", 31, "expected a value after '==' at position 31"),
            ("", 0, "expected a subject, found the end of the expression at position 0"),
            ("(runningTasksCount == 1", 23, "expected ')' to close the '(' at position 0"),
            ("runningTasksCount == 1)", 22, "unexpected ')' at position 22"),
            ("runningTasksCount 1", 18, "expected an operator after 'runningTasksCount'"),
            ("runningTasksCount =~ 1", 18, "operator '=~' is not valid for runningTasksCount"),
            ("runningTasksCount == many", 21, "runningTasksCount needs a whole number"),
            ("registeredAt < yesterday", 15, "registeredAt needs a date"),
            ("agentVersion < latest", 15, "agentVersion needs a version"),
            ("agentConnected == maybe", 18, "agentConnected is true or false"),
            ("ec2InstanceId in i-1", 17, "expected a list such as [a, b] after 'in'"),
            ("ec2InstanceId in [i-1 i-2]", 22, "expected ',' or ']' in the list"),
            ("ec2InstanceId == 'i-1", 17, "unterminated quoted value"),
            ("ec2InstanceId =~ '('", 17, "invalid pattern '('"),
            ("instanceType == t2.micro", 0, "unknown subject 'instanceType'"),
            ("runningTasksCount == 1 and", 26, "expected a subject"),
        ],
    )
    def test_syntax_error_position(self, expression: str, position: int, message: str) -> None:
        """A bad expression raises ClusterQueryError naming the position and what was expected."""
        with pytest.raises(ClusterQueryError) as info:
            parse(expression)
        assert info.value.position == position
        assert info.value.expression == expression
        assert message in str(info.value)

    def test_course_notes_typo_gets_a_hint(self) -> None:
        """The notes' `attributes:` typo is refused with a did-you-mean hint."""
        with pytest.raises(ClusterQueryError, match=r"did you mean 'attribute:ecs\.instance-type'"):
            parse("attributes:ecs.instance-type =~ t2.*")

    def test_error_is_a_value_error_with_pointer(self) -> None:
        """ClusterQueryError is a ValueError and can point at the position with a caret."""
        with pytest.raises(ValueError, match="position 21") as info:
            parse("runningTasksCount == ")
        assert isinstance(info.value, ClusterQueryError)
        assert info.value.pointer() == "runningTasksCount == \n" + " " * 21 + "^"


class TestHostilePatterns:
    """A learner's `=~` pattern runs in the emulator a workshop shares: none may backtrack for minutes."""

    @pytest.mark.parametrize(
        ("pattern", "problem"),
        [
            ("(a+)+$", "cannot itself repeat"),
            ("(a|aa)*b", "cannot itself repeat or have alternatives"),
            ("(a?){30}a{30}", "cannot itself repeat"),
            ("(?>(a+)+)b", "cannot itself repeat"),
            ("(?=(a+)+)b", "cannot itself repeat"),
            ("a*a*a*a*b", "at most 3 repetitions"),
            ("(ab|cd)(ef|gh)(ij|kl)(mn|op)", "at most 3 repetitions"),
            ("(.)\\1", "backreferences"),
            ("(?P<x>a)(?(x)b|c)", "backreferences"),
            ("a" * 257, "at most 256 characters"),
        ],
    )
    def test_a_catastrophic_pattern_is_refused_with_a_reason(self, pattern: str, problem: str) -> None:
        """The query is refused when parsed, in words, with the pattern's position: never evaluated."""
        expression = f"attribute:stack =~ '{pattern}'"
        with pytest.raises(ClusterQueryError, match="not accepted") as info:
            parse(expression)
        assert problem in str(info.value)
        assert info.value.position == len("attribute:stack =~ ")

    def test_a_value_longer_than_ecs_allows_never_matches(self) -> None:
        """A long value is not matched at all (`=~` false, `!~` true), so it cannot stretch a pattern."""
        long = dataclasses.replace(M5, attributes={"stack": "a" * 5000})
        assert not matches("attribute:stack =~ '.*.*.*b'", long)
        assert not matches("attribute:stack =~ 'a*'", long)
        assert matches("attribute:stack !~ 'a*'", long)
        assert matches("attribute:stack =~ 'a*'", dataclasses.replace(M5, attributes={"stack": "a" * 255}))

    @pytest.mark.parametrize(
        "pattern",
        ["t2.*", "(web|api)-.*", "[a-z]+-[0-9]{2}", "(?:ab){2,5}", "(?=a)a.*", "m5\\.(large|xlarge)"],
    )
    def test_everyday_patterns_are_accepted(self, pattern: str) -> None:
        """The bounds leave the patterns placement constraints use: wildcards, one alternation, classes."""
        parse(f"attribute:stack =~ '{pattern}'")
