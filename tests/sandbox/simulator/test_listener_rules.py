"""Listener rules in the simulator: the first rule (by priority) whose conditions match chooses the target group."""

from __future__ import annotations

from labkit.sandbox.simulator.elb import _rule_matches


def _path(*values: str) -> dict[str, object]:
    return {"Field": "path-pattern", "PathPatternConfig": {"Values": list(values)}}


def test_path_patterns_use_star_and_question_mark_only() -> None:
    """`*` matches any characters, `?` one; brackets and dots are literal; matching is case-sensitive."""
    assert _rule_matches([_path("/api/*")], "/api/v1/items", "")
    assert not _rule_matches([_path("/api/*")], "/api", "")
    assert _rule_matches([_path("/api", "/api/*")], "/api", "")
    assert _rule_matches([_path("/v?/x")], "/v2/x", "")
    assert not _rule_matches([_path("/v?/x")], "/v10/x", "")
    assert not _rule_matches([_path("/API/*")], "/api/x", "")
    assert _rule_matches([_path("/a.b[1]")], "/a.b[1]", "")
    assert not _rule_matches([_path("/a.b")], "/axb", "")


def test_every_condition_must_match_and_hosts_ignore_case() -> None:
    """A path and a host condition both have to match; host names compare without case."""
    conditions = [_path("/*"), {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.Example.com"]}}]
    assert _rule_matches(conditions, "/", "api.example.COM")
    assert not _rule_matches(conditions, "/", "example.org")


def test_conditions_the_simulator_does_not_route_never_match() -> None:
    """A rule on http-header, query-string, method or source-ip is not routed here, so it never matches."""
    assert not _rule_matches(
        [{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}], "/", ""
    )
