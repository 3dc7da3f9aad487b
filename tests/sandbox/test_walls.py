"""Walls between sandboxes of one process: naming another open sandbox's account is refused, per service."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ClientError

import labkit
from labkit.sandbox import walls


def _environ(body: bytes = b"", **extra: Any) -> dict[str, Any]:
    return {
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **extra,
    }


@pytest.fixture
def two_accounts() -> Any:
    walls.open_account("111111111111")
    walls.open_account("222222222222")
    try:
        yield
    finally:
        walls.close_account("111111111111")
        walls.close_account("222222222222")


class TestForeignAccount:
    def test_an_arn_of_another_open_account_is_found_and_the_body_is_put_back(
        self, two_accounts: None
    ) -> None:
        """A JSON body naming the other account's ARN is found; the next reader gets the same body."""
        body = b'{"cluster": "arn:aws:ecs:us-east-1:222222222222:cluster/x"}'
        environ = _environ(body)
        found = walls.foreign_account(environ, "111111111111", "ecs")
        assert found == ("222222222222", "arn:aws:ecs:us-east-1:222222222222:cluster/x")
        assert environ["wsgi.input"].read() == body

    def test_own_and_unknown_accounts_are_not_walls(self, two_accounts: None) -> None:
        """The caller's own account and an account no sandbox holds are never refused."""
        assert (
            walls.foreign_account(_environ(b"arn:aws:sns:us-east-1:111111111111:t"), "111111111111") is None
        )
        assert (
            walls.foreign_account(_environ(b"arn:aws:sns:us-east-1:333333333333:t"), "111111111111") is None
        )
        assert walls.foreign_account(_environ(b"1222222222222"), "111111111111") is None  # 13 digits

    def test_a_queue_url_in_the_query_string_and_a_header_are_read(self, two_accounts: None) -> None:
        """A queue URL in the query string and a copy source in a header both name the other account."""
        query = _environ(QUERY_STRING="QueueUrl=http%3A%2F%2Fh%2F222222222222%2Fq")
        assert walls.foreign_account(query, "111111111111", "sqs") is not None
        header = _environ(
            HTTP_X_AMZ_COPY_SOURCE="arn%3Aaws%3As3%3Aus-east-1%3A222222222222%3Aaccesspoint%2Fa"
        )
        assert walls.foreign_account(header, "111111111111", "s3") is not None

    def test_an_s3_objects_content_is_data_not_a_parameter(self, two_accounts: None) -> None:
        """PutObject's body holding the other account's id is not read; a bucket configuration's is."""
        put = _environ(b"222222222222", PATH_INFO="/bucket/key", REQUEST_METHOD="PUT")
        assert walls.foreign_account(put, "111111111111", "s3") is None
        config = _environ(b"<Topic>arn:aws:sns:us-east-1:222222222222:t</Topic>", PATH_INFO="/bucket")
        assert walls.foreign_account(config, "111111111111", "s3") is not None


class TestRefusal:
    @pytest.mark.parametrize(
        ("service", "protocol", "status", "code"),
        [
            ("s3", "rest-xml", 403, "AccessDenied"),
            ("sns", "query", 403, "AuthorizationError"),
            ("sqs", "json", 403, "AccessDenied"),
            ("ec2", "query", 403, "UnauthorizedOperation"),
            ("iam", "query", 403, "AccessDenied"),
            ("ecs", "json", 400, "AccessDeniedException"),
            ("lambda", "rest-json", 403, "AccessDeniedException"),
        ],
    )
    def test_each_service_refuses_in_its_own_words(
        self, service: str, protocol: str, status: int, code: str
    ) -> None:
        """The refusal carries the code and HTTP status the service uses for access denied."""
        refused = walls.refusal(service, protocol, "111111111111", "Publish", "arn:x")
        assert (refused.status, refused.code) == (status, code)


class TestEmbeddedSandboxes:
    def test_two_embedded_sandboxes_in_one_process_are_walls(self) -> None:
        """One embedded sandbox cannot publish to, read or delete another's topic and bucket."""
        with labkit.open_sandbox() as mine, labkit.open_sandbox() as theirs:
            topic = theirs.client("sns").create_topic(Name="theirs")["TopicArn"]
            theirs.client("s3").create_bucket(Bucket="theirs-bucket")
            with pytest.raises(ClientError, match="AuthorizationError"):
                mine.client("sns").delete_topic(TopicArn=topic)
            with pytest.raises(ClientError, match="AccessDenied"):
                mine.client("s3").list_objects_v2(Bucket="theirs-bucket")
            with pytest.raises(ClientError, match="BucketAlreadyExists"):
                mine.client("s3").create_bucket(Bucket="theirs-bucket")
            assert [t["TopicArn"] for t in theirs.client("sns").list_topics()["Topics"]] == [topic]
        assert walls.open_accounts().isdisjoint({mine.account_id, theirs.account_id})
