"""Teardown: only the session's tagged resources go, in AWS's dependency order, under a strict fake.

The strict fake is `labkit.testing.StrictAws` on an embedded sandbox (moto's state and answers, plus
the refusals AWS makes and moto does not, AWS's page sizes, injected throttling and crashes).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from labkit.images import build_oci_image
from labkit.registry.client import push_layout_via_api
from labkit.sandbox.aws import LAB_TAG, SESSION_TAG, session_tags_hook
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.guards import isolated_botocore_session, sandbox_client_config
from labkit.teardown import DELETION_ORDER, TeardownIncompleteError, discover, teardown
from labkit.testing import InjectedCrash, StrictAws, advance_until, is_mutating

SESSION = "lk-0123456789"
OTHER = "lk-otherother"

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


def clients_for(sb: EmbeddedSandbox, session_id: str | None) -> Any:
    """Clients of `sb` whose creating calls are tagged with `session_id` (None: untagged), as aws mode does."""
    core = isolated_botocore_session(sb.region)
    if session_id is not None:
        core.register("before-parameter-build", session_tags_hook({SESSION_TAG: session_id, LAB_TAG: "test"}))
    session = boto3.Session(botocore_session=core, region_name=sb.region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=sb.endpoint_url, config=sandbox_client_config())  # type: ignore[call-overload]

    return client


@dataclass
class Lab:
    sb: EmbeddedSandbox
    cluster: str
    service: str
    other_cluster: str
    untagged_cluster: str


def build_lab(
    sb: EmbeddedSandbox, session_id: str = SESSION, *, services: int = 1, revisions: int = 2
) -> Lab:
    """Everything a Fargate-behind-an-ALB lab makes, tagged with the session, plus others' resources."""
    c = clients_for(sb, session_id)
    ec2, ecs, elbv2 = c("ec2"), c("ecs"), c("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ][:2]
    alb_sg = ec2.create_security_group(GroupName="alb-sg", Description="alb", VpcId=vpc)["GroupId"]
    task_sg = ec2.create_security_group(GroupName="task-sg", Description="tasks", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=task_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]}
        ],
    )
    cluster = ecs.create_cluster(clusterName="lab")["cluster"]["clusterArn"]
    for _ in range(revisions):
        ecs.register_task_definition(
            family="web",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": "web",
                    "image": "nginxdemos/hello",
                    "essential": True,
                    "portMappings": [{"containerPort": 80}],
                }
            ],
        )
    lb = elbv2.create_load_balancer(
        Name="lab-alb", Subnets=subnets, SecurityGroups=[alb_sg], Type="application"
    )
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=lb_arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
    )
    tg = elbv2.create_target_group(Name="lab-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
    tg_arn = tg["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )
    network = {
        "awsvpcConfiguration": {"subnets": subnets, "securityGroups": [task_sg], "assignPublicIp": "ENABLED"}
    }
    for i in range(services):
        ecs.create_service(
            cluster=cluster,
            serviceName=f"web-{i}" if i else "web",
            taskDefinition="web",
            desiredCount=2 if i == 0 else 0,
            launchType="FARGATE",
            networkConfiguration=network,
            **(
                {"loadBalancers": [{"targetGroupArn": tg_arn, "containerName": "web", "containerPort": 80}]}
                if i == 0
                else {}
            ),
        )
    c("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/lab/web",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    c("ecr").create_repository(repositoryName="lab/web")
    with tempfile.TemporaryDirectory() as layout:  # a real image: the registry needs its blobs first
        build_oci_image(layout, files={"index.html": "v1"}, tag="v1")
        push_layout_via_api(c("ecr"), layout, "lab/web", "v1")
    c("logs").create_log_group(logGroupName="/ecs/web")
    iam = c("iam")
    iam.create_role(RoleName="lab-task-exec", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(
        RoleName="lab-task-exec",
        PolicyName="inline",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
        ),
    )
    policy = iam.create_policy(
        PolicyName="lab-policy",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
        ),
    )
    iam.attach_role_policy(RoleName="lab-task-exec", PolicyArn=policy["Policy"]["Arn"])
    c("cloudwatch").put_metric_alarm(
        AlarmName="lab-cpu-high",
        MetricName="CPUUtilization",
        Namespace="AWS/ECS",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    events = c("events")
    events.put_rule(Name="lab-nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(
        Rule="lab-nightly",
        Targets=[{"Id": "log", "Arn": f"arn:aws:logs:{sb.region}:{sb.account_id}:log-group:/ecs/web"}],
    )
    # Another session's and untagged resources that must survive.
    other = clients_for(sb, OTHER)
    other_cluster = other("ecs").create_cluster(clusterName="someone-else")["cluster"]["clusterArn"]
    other("ec2").create_security_group(GroupName="someone-else", Description="x", VpcId=vpc)
    other("logs").create_log_group(logGroupName="/someone/else")
    plain = clients_for(sb, None)
    untagged_cluster = plain("ecs").create_cluster(clusterName="untagged")["cluster"]["clusterArn"]
    plain("logs").create_log_group(logGroupName="/untagged")
    plain("ec2").create_security_group(GroupName="untagged", Description="x", VpcId=vpc)

    def running() -> bool:
        service = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
        return int(service["runningCount"]) == 2

    advance_until(sb, running, what="two running tasks")
    return Lab(sb, cluster, "web", other_cluster, untagged_cluster)


@pytest.fixture
def lab(sandbox: EmbeddedSandbox) -> Lab:
    return build_lab(sandbox)


def survivors(sb: EmbeddedSandbox) -> dict[str, list[str]]:
    """What other sessions and nobody's session own, as listed afterwards."""
    ecs, logs, ec2 = sb.client("ecs"), sb.client("logs"), sb.client("ec2")
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    return {
        "clusters": sorted(c["clusterName"] for c in clusters if c["status"] == "ACTIVE"),
        "log_groups": sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]),
        "groups": sorted(
            g["GroupName"]
            for g in ec2.describe_security_groups()["SecurityGroups"]
            if g["GroupName"] != "default"
        ),
    }


def run(sb: EmbeddedSandbox, **kwargs: Any) -> Any:
    return teardown(sb, SESSION, sleep=sb.advance, **kwargs)


def quick(sb: EmbeddedSandbox, **kwargs: Any) -> Any:
    """A teardown without the tagging API (moto loads every service's backend for it: seconds per account)."""
    return teardown(sb, SESSION, sleep=sb.advance, tagging_api=False, **kwargs)


class TestTheStrictFake:
    def test_it_refuses_what_aws_refuses_and_moto_accepts(self, lab: Lab) -> None:
        """Deleting out of order is refused: cluster with services, protected ALB, target group in use, referenced group."""
        strict = StrictAws(lab.sb).install()
        ecs, elbv2, ec2 = lab.sb.client("ecs"), lab.sb.client("elbv2"), lab.sb.client("ec2")
        with pytest.raises(ecs.exceptions.ClientError, match="ClusterContainsServicesException"):
            ecs.delete_cluster(cluster="lab")
        lb = elbv2.describe_load_balancers(Names=["lab-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
        with pytest.raises(elbv2.exceptions.ClientError, match="OperationNotPermitted"):
            elbv2.delete_load_balancer(LoadBalancerArn=lb)
        tg = elbv2.describe_target_groups(Names=["lab-tg"])["TargetGroups"][0]["TargetGroupArn"]
        with pytest.raises(elbv2.exceptions.ClientError, match="ResourceInUse"):
            elbv2.delete_target_group(TargetGroupArn=tg)
        alb_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["alb-sg"]}])[
            "SecurityGroups"
        ][0]
        with pytest.raises(ec2.exceptions.ClientError, match="DependencyViolation"):
            ec2.delete_security_group(GroupId=alb_sg["GroupId"])
        assert [code for _, code in strict.refused] == [
            "ClusterContainsServicesException",
            "OperationNotPermitted",
            "ResourceInUse",
            "DependencyViolation",
        ]

    def test_it_pages_ecs_listings_like_aws(self, sandbox: EmbeddedSandbox) -> None:
        """ListServices answers ten at a time with a nextToken, as AWS does (moto answers all at once)."""
        build_lab(sandbox, services=12, revisions=1)
        StrictAws(sandbox).install()
        ecs = sandbox.client("ecs")
        first = ecs.list_services(cluster="lab")
        assert len(first["serviceArns"]) == 10
        second = ecs.list_services(cluster="lab", nextToken=first["nextToken"])
        assert len(second["serviceArns"]) == 2
        assert "nextToken" not in second


class TestTeardown:
    def test_a_dry_run_lists_everything_of_the_session_and_changes_nothing(self, lab: Lab) -> None:
        """Without yes, every kind the lab made is listed in deletion order and no mutating call is sent."""
        strict = StrictAws(lab.sb).install()
        before = survivors(lab.sb)
        report = run(lab.sb)
        kinds = [r.kind for r in report.found]
        assert set(kinds) == set(DELETION_ORDER)
        assert kinds == sorted(kinds, key=DELETION_ORDER.index)
        assert [c.operation for c in strict.calls if is_mutating(c.operation)] == []
        assert report.dry_run
        assert "dry run" in report.summary()
        assert survivors(lab.sb) == before

    def test_teardown_deletes_the_session_through_throttling_and_dependencies(self, lab: Lab) -> None:
        """With throttling and DependencyViolation injected, everything of the session goes and only that."""
        strict = StrictAws(lab.sb).install()
        strict.throttle("DeleteService", times=2)
        strict.throttle("DeleteListener", times=1)
        strict.throttle("DescribeLoadBalancers", times=1)
        strict.fail("DeleteSecurityGroup", "DependencyViolation", "resource has a dependent object", times=2)
        report = run(lab.sb, yes=True)
        assert report.done
        assert report.remaining == []
        assert {r.kind for r in report.deleted} == set(DELETION_ORDER)
        assert discover(lab.sb, SESSION) == []
        codes = {code for _, code in strict.refused}
        assert {"ThrottlingException", "Throttling", "DependencyViolation"} <= codes
        assert survivors(lab.sb) == {
            "clusters": ["someone-else", "untagged"],
            "log_groups": ["/someone/else", "/untagged"],
            "groups": ["someone-else", "untagged"],
        }
        # The order AWS needs: the service scaled to 0 and deleted before its cluster, listeners before
        # the load balancer, the load balancer before its target group.
        ops = strict.operations
        assert ops.index("UpdateService") < ops.index("DeleteService") < ops.index("DeleteCluster")
        assert ops.index("DeleteListener") < ops.index("DeleteLoadBalancer") < ops.index("DeleteTargetGroup")

    def test_a_second_run_finds_nothing_and_says_so(self, lab: Lab) -> None:
        """After a teardown, another one finds nothing, sends nothing mutating and reports it."""
        quick(lab.sb, yes=True)
        strict = StrictAws(lab.sb).install()
        report = quick(lab.sb, yes=True)
        assert report.found == []
        assert report.done
        assert "nothing carries its tag" in report.summary()
        assert [op for op in strict.operations if is_mutating(op)] == []

    @pytest.mark.parametrize("calls_before_crash", [3, 20])
    def test_a_run_killed_half_way_is_finished_by_the_next(self, lab: Lab, calls_before_crash: int) -> None:
        """A crash after some mutating calls leaves resources; the next run deletes the rest."""
        strict = StrictAws(lab.sb).install()
        strict.crash_after(calls_before_crash)
        with pytest.raises(InjectedCrash):
            quick(lab.sb, yes=True)
        assert discover(lab.sb, SESSION, tagging_api=False) != []
        report = quick(lab.sb, yes=True)
        assert report.done
        assert discover(lab.sb, SESSION, tagging_api=False) == []
        assert survivors(lab.sb)["clusters"] == ["someone-else", "untagged"]

    def test_what_cannot_be_deleted_is_listed_and_the_run_fails(self, lab: Lab) -> None:
        """A log group whose deletion is always refused remains, and the teardown raises listing it."""
        strict = StrictAws(lab.sb).install()
        strict.fail("DeleteLogGroup", "AccessDeniedException", "not allowed", times=100)
        with pytest.raises(TeardownIncompleteError) as caught:
            quick(lab.sb, yes=True)
        assert [r.name for r in caught.value.remaining] == ["/ecs/web"]
        assert "/ecs/web" in str(caught.value)
        assert caught.value.report is not None
        assert "AccessDeniedException" in caught.value.report.problems[0]

    def test_pagination_past_100_revisions_and_10_services(self, sandbox: EmbeddedSandbox) -> None:
        """105 task definition revisions and 12 services, listed by AWS's page sizes, are all deleted."""
        build_lab(sandbox, services=12, revisions=105)
        StrictAws(sandbox).install()
        found = discover(sandbox, SESSION, tagging_api=False)
        assert sum(r.kind == "ecs:task-definition" for r in found) == 105
        assert sum(r.kind == "ecs:service" for r in found) == 12
        report = quick(sandbox, yes=True)
        assert report.done
        assert sandbox.client("ecs").list_task_definitions(familyPrefix="web")["taskDefinitionArns"] == []

    def test_a_tagged_kind_labkit_does_not_delete_is_reported_not_touched(
        self, sandbox: EmbeddedSandbox
    ) -> None:
        """A tagged SNS topic, found through the tagging API, is left in place and named in the failure."""
        topic = clients_for(sandbox, SESSION)("sns").create_topic(Name="lab-alerts")["TopicArn"]
        with pytest.raises(TeardownIncompleteError) as caught:
            run(sandbox, yes=True)
        assert [r.id for r in caught.value.remaining] == [topic]
        assert caught.value.report is not None
        assert any("labkit does not delete sns" in p for p in caught.value.report.problems)
        assert sandbox.client("sns").list_topics()["Topics"] == [{"TopicArn": topic}]


def test_in_aws_mode_a_dry_run_sends_only_reads(labkit_home: Any) -> None:
    """Against a real-account sandbox (FakeAws), a dry run lists through read-only calls and finds nothing."""
    from labkit.sandbox.aws import AwsSandbox
    from labkit.testing import FakeAws

    (labkit_home / "config.toml").write_text(
        '[aws]\nallowed_accounts = ["111122223333"]\nregion = "us-east-1"\n'
    )
    fake = FakeAws(account_id="111122223333")
    sandbox = AwsSandbox(botocore_session=fake.session())
    report = teardown(sandbox, SESSION, sleep=lambda _: None)
    assert report.found == []
    assert fake.mutating == []
    assert {"ListClusters", "DescribeLoadBalancers", "DescribeSecurityGroups", "GetResources"} <= set(
        fake.operations
    )
