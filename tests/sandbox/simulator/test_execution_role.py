"""ECS fetches secrets and environment files with the task execution role, or the task does not start."""

from __future__ import annotations

import json
from typing import Any

from labkit.sandbox.embedded import EmbeddedSandbox

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _run_with_secret(sandbox: EmbeddedSandbox, statements: list[dict[str, Any]]) -> dict[str, Any]:
    iam, ecs = sandbox.client("iam"), sandbox.client("ecs")
    secret = sandbox.client("secretsmanager").create_secret(Name="db", SecretString="pw")["ARN"]
    role = iam.create_role(RoleName="execution", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if statements:
        policy = {
            "Version": "2012-10-17",
            "Statement": [{**s, "Resource": s.get("Resource", secret)} for s in statements],
        }
        iam.put_role_policy(RoleName="execution", PolicyName="p", PolicyDocument=json.dumps(policy))
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="job",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=role,
        containerDefinitions=[
            {
                "name": "job",
                "image": "public.ecr.aws/labkit/job",
                "environment": [{"name": "JOB_SECONDS", "value": "600"}],
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": secret}],
            }
        ],
    )
    subnet = sandbox.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    arn = ecs.run_task(
        cluster="c",
        taskDefinition="job",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )["tasks"][0]["taskArn"]
    sandbox.advance(120)
    return dict(ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0])


def test_an_execution_role_without_the_secret_stops_the_task_with_aws_reason(
    sandbox: EmbeddedSandbox,
) -> None:
    """No secretsmanager:GetSecretValue: the task stops with ResourceInitializationError naming the action."""
    task = _run_with_secret(sandbox, [{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}])
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "TaskFailedToStart"
    reason = task["stoppedReason"]
    assert reason.startswith("ResourceInitializationError: unable to pull secrets or registry auth")
    assert "is not authorized to perform: secretsmanager:GetSecretValue" in reason
    assert ":assumed-role/execution/" in reason


def test_an_execution_role_allowed_the_secret_starts_the_task(sandbox: EmbeddedSandbox) -> None:
    """GetSecretValue on that secret's ARN is enough for the task to run."""
    task = _run_with_secret(sandbox, [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue"}])
    assert task["lastStatus"] == "RUNNING"
