"""Workshop accounts are walls: a learner naming another learner's resource gets AWS's refusal, and nothing changes.

Each case creates a resource in Bob's account, then Ada names it (by ARN, bucket name, queue URL,
registry id, ...) in a read, a write and a delete. Every attempt must fail with the error AWS gives
without a cross-account policy, and Bob's own view of the resource must be what it was.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.workshop.test_server import Workshop, workshop

__all__ = ["CASES", "Case", "workshop"]

Clients = Callable[[str], Any]
Attempt = Callable[[Clients, dict[str, str]], Any]


@dataclass
class Case:
    """One service: how Bob makes a resource, how Ada tries to reach it, what Bob sees of it."""

    service: str
    setup: Callable[[Clients, str], dict[str, str]]
    snapshot: Callable[[Clients, dict[str, str]], Any]
    read: Attempt
    write: Attempt
    delete: Attempt
    codes: frozenset[str] = field(default_factory=lambda: frozenset({"AccessDeniedException"}))


def _s3_setup(b: Clients, account: str) -> dict[str, str]:
    b("s3").create_bucket(Bucket=f"bobs-{account}")
    b("s3").put_object(Bucket=f"bobs-{account}", Key="secret.txt", Body=b"bob's")
    return {"bucket": f"bobs-{account}"}


def _s3_snapshot(b: Clients, r: dict[str, str]) -> Any:
    s3 = b("s3")
    objects = s3.list_objects_v2(Bucket=r["bucket"]).get("Contents", [])
    return [
        (o["Key"], o["ETag"], s3.get_object(Bucket=r["bucket"], Key=o["Key"])["Body"].read()) for o in objects
    ]


def _sns_setup(b: Clients, account: str) -> dict[str, str]:
    return {"topic": b("sns").create_topic(Name="bobs-topic")["TopicArn"]}


def _sns_snapshot(b: Clients, r: dict[str, str]) -> Any:
    sns = b("sns")
    return (
        [t["TopicArn"] for t in sns.list_topics()["Topics"]],
        [s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]],
        b("sqs").receive_message(QueueUrl=r["inbox"], MaxNumberOfMessages=10).get("Messages", []),
    )


def _sns_setup_with_inbox(b: Clients, account: str) -> dict[str, str]:
    refs = _sns_setup(b, account)
    inbox = b("sqs").create_queue(QueueName="bobs-inbox")["QueueUrl"]
    arn = b("sqs").get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    b("sns").subscribe(TopicArn=refs["topic"], Protocol="sqs", Endpoint=arn)
    return {**refs, "inbox": inbox}


def _sqs_setup(b: Clients, account: str) -> dict[str, str]:
    url = b("sqs").create_queue(QueueName="bobs-queue")["QueueUrl"]
    b("sqs").send_message(QueueUrl=url, MessageBody="for bob")
    return {"queue": url, "name": "bobs-queue"}


def _sqs_snapshot(b: Clients, r: dict[str, str]) -> Any:
    attrs = b("sqs").get_queue_attributes(QueueUrl=r["queue"], AttributeNames=["All"])["Attributes"]
    return (
        attrs["ApproximateNumberOfMessages"],
        attrs.get("VisibilityTimeout"),
        b("sqs").list_queues()["QueueUrls"],
    )


def _ecs_setup(b: Clients, account: str) -> dict[str, str]:
    return {"cluster": b("ecs").create_cluster(clusterName="bobs")["cluster"]["clusterArn"]}


def _ecs_snapshot(b: Clients, r: dict[str, str]) -> Any:
    ecs = b("ecs")
    return (
        [(c["clusterName"], c["status"]) for c in ecs.describe_clusters(clusters=[r["cluster"]])["clusters"]],
        ecs.list_services(cluster=r["cluster"])["serviceArns"],
        ecs.list_tags_for_resource(resourceArn=r["cluster"])["tags"],
    )


def _ecr_setup(b: Clients, account: str) -> dict[str, str]:
    repo = b("ecr").create_repository(repositoryName="bobs-app")["repository"]
    return {
        "registry": repo["registryId"],
        "repo": "bobs-app",
        "uri": repo["repositoryUri"],
        "arn": repo["repositoryArn"],
    }


def _ecr_snapshot(b: Clients, r: dict[str, str]) -> Any:
    ecr = b("ecr")
    repos = ecr.describe_repositories()["repositories"]
    images = ecr.list_images(repositoryName=r["repo"])["imageIds"]
    return (
        [x["repositoryName"] for x in repos],
        images,
        ecr.list_tags_for_resource(resourceArn=r["arn"])["tags"],
    )


def _vpc(ec2: Any) -> tuple[str, list[str]]:
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc]
    return vpc, subnets


def _elbv2_setup(b: Clients, account: str) -> dict[str, str]:
    _, subnets = _vpc(b("ec2"))
    lb = b("elbv2").create_load_balancer(Name="bobs-lb", Subnets=subnets[:2])["LoadBalancers"][0]
    return {"lb": lb["LoadBalancerArn"]}


def _elbv2_snapshot(b: Clients, r: dict[str, str]) -> Any:
    elb = b("elbv2")
    return (
        [x["LoadBalancerArn"] for x in elb.describe_load_balancers()["LoadBalancers"]],
        elb.describe_tags(ResourceArns=[r["lb"]])["TagDescriptions"],
        elb.describe_load_balancer_attributes(LoadBalancerArn=r["lb"])["Attributes"],
    )


def _ec2_setup(b: Clients, account: str) -> dict[str, str]:
    vpc, _ = _vpc(b("ec2"))
    group = b("ec2").create_security_group(GroupName="bobs", Description="d", VpcId=vpc)["GroupId"]
    return {"group": group, "vpc": vpc}


def _ec2_snapshot(b: Clients, r: dict[str, str]) -> Any:
    (group,) = b("ec2").describe_security_groups(GroupIds=[r["group"]])["SecurityGroups"]
    return group["IpPermissions"], group.get("Tags", [])


_TRUST = json.dumps(
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
_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


def _iam_setup(b: Clients, account: str) -> dict[str, str]:
    role = b("iam").create_role(RoleName="bobs-role", AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    policy = b("iam").create_policy(PolicyName="bobs-policy", PolicyDocument=_POLICY)["Policy"]["Arn"]
    return {"role": role, "policy": policy}


def _iam_snapshot(b: Clients, r: dict[str, str]) -> Any:
    iam = b("iam")
    return (
        [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]],
        iam.get_policy(PolicyArn=r["policy"])["Policy"]["AttachmentCount"],
        [x["RoleName"] for x in iam.list_roles()["Roles"]],
        iam.list_policy_versions(PolicyArn=r["policy"])["Versions"].__len__(),
    )


def _events_setup(b: Clients, account: str) -> dict[str, str]:
    bus = b("events").create_event_bus(Name="bobs-bus")["EventBusArn"]
    inbox = b("sqs").create_queue(QueueName="bobs-events")["QueueUrl"]
    arn = b("sqs").get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = b("events").put_rule(
        Name="bobs-rule", EventBusName="bobs-bus", EventPattern=json.dumps({"source": ["x"]})
    )
    b("events").put_targets(Rule="bobs-rule", EventBusName="bobs-bus", Targets=[{"Id": "q", "Arn": arn}])
    return {"bus": bus, "rule": rule["RuleArn"], "inbox": inbox}


def _events_snapshot(b: Clients, r: dict[str, str]) -> Any:
    ev = b("events")
    return (
        [x["Name"] for x in ev.list_event_buses()["EventBuses"]],
        [x["Name"] for x in ev.list_rules(EventBusName="bobs-bus")["Rules"]],
        b("sqs").receive_message(QueueUrl=r["inbox"], MaxNumberOfMessages=10).get("Messages", []),
        ev.list_tags_for_resource(ResourceARN=r["rule"])["Tags"],
    )


def _cloudwatch_setup(b: Clients, account: str) -> dict[str, str]:
    cw = b("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="bobs-alarm", MetricName="CPU", Namespace="AWS/ECS", Statistic="Average",
        Period=60, EvaluationPeriods=1, Threshold=50.0, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    return {"alarm": cw.describe_alarms()["MetricAlarms"][0]["AlarmArn"]}


def _cloudwatch_snapshot(b: Clients, r: dict[str, str]) -> Any:
    cw = b("cloudwatch")
    alarms = cw.describe_alarms()["MetricAlarms"]
    return [(a["AlarmName"], a["StateValue"]) for a in alarms], cw.list_tags_for_resource(
        ResourceARN=r["alarm"]
    )["Tags"]


def _logs_setup(b: Clients, account: str) -> dict[str, str]:
    b("logs").create_log_group(logGroupName="/bobs")
    arn = b("logs").describe_log_groups()["logGroups"][0]["arn"].removesuffix(":*")
    return {"group": arn}


def _logs_snapshot(b: Clients, r: dict[str, str]) -> Any:
    logs = b("logs")
    groups = logs.describe_log_groups()["logGroups"]
    return [(g["logGroupName"], g.get("retentionInDays")) for g in groups], logs.list_tags_for_resource(
        resourceArn=r["group"]
    )["tags"]


def _dynamodb_setup(b: Clients, account: str) -> dict[str, str]:
    table = b("dynamodb").create_table(
        TableName="bobs", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]  # fmt: skip
    b("dynamodb").put_item(TableName="bobs", Item={"k": {"S": "1"}, "v": {"S": "bob"}})
    return {"table": table["TableArn"]}


def _dynamodb_snapshot(b: Clients, r: dict[str, str]) -> Any:
    ddb = b("dynamodb")
    return ddb.list_tables()["TableNames"], ddb.scan(TableName="bobs")["Items"]


def _ssm_setup(b: Clients, account: str) -> dict[str, str]:
    b("ssm").put_parameter(Name="/bobs/secret", Value="bob", Type="String")
    arn = b("ssm").get_parameter(Name="/bobs/secret")["Parameter"]["ARN"]
    return {"param": arn}


def _ssm_snapshot(b: Clients, r: dict[str, str]) -> Any:
    p = b("ssm").get_parameter(Name="/bobs/secret")["Parameter"]
    return p["Value"], p["Version"]


def _secrets_setup(b: Clients, account: str) -> dict[str, str]:
    return {"secret": b("secretsmanager").create_secret(Name="bobs", SecretString="bob")["ARN"]}


def _secrets_snapshot(b: Clients, r: dict[str, str]) -> Any:
    sm = b("secretsmanager")
    described = sm.describe_secret(SecretId="bobs")
    return (
        sm.get_secret_value(SecretId="bobs")["SecretString"],
        described.get("DeletedDate"),
        described.get("Tags"),
    )


def _aas_setup(b: Clients, account: str) -> dict[str, str]:
    b("ecs").create_cluster(clusterName="bobs")
    b("ecs").register_task_definition(
        family="web", containerDefinitions=[{"name": "c", "image": "nginx", "memory": 64}]
    )
    b("ecs").create_service(cluster="bobs", serviceName="web", taskDefinition="web", desiredCount=0)
    aas = b("application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/bobs/web", ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1, MaxCapacity=3,
    )  # fmt: skip
    arn = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0].get(
        "ScalableTargetARN", ""
    )
    return {"target": arn, "resource": "service/bobs/web"}


def _aas_snapshot(b: Clients, r: dict[str, str]) -> Any:
    targets = b("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
        "ScalableTargets"
    ]
    return [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets]


def _asg_setup(b: Clients, account: str) -> dict[str, str]:
    _, subnets = _vpc(b("ec2"))
    ec2 = b("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    b("ec2").create_launch_template(
        LaunchTemplateName="bobs", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )
    b("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="bobs", LaunchTemplate={"LaunchTemplateName": "bobs"}, MinSize=0, MaxSize=2,
        DesiredCapacity=0, VPCZoneIdentifier=subnets[0],
    )  # fmt: skip
    arn = b("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    return {"group": arn}


def _asg_snapshot(b: Clients, r: dict[str, str]) -> Any:
    groups = b("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    return [(g["AutoScalingGroupName"], g["MaxSize"], g["DesiredCapacity"]) for g in groups]


def _lambda_setup(b: Clients, account: str) -> dict[str, str]:
    import io
    import zipfile

    role = b("iam").create_role(RoleName="bobs-fn", AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(e, c):\n    return 1\n")
    fn = b("lambda").create_function(
        FunctionName="bobs-fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": buffer.getvalue()},
    )  # fmt: skip
    return {"fn": fn["FunctionArn"]}


def _lambda_snapshot(b: Clients, r: dict[str, str]) -> Any:
    fn = b("lambda").get_function(FunctionName="bobs-fn")
    return (
        fn["Configuration"]["Timeout"],
        fn.get("Tags", {}),
        [f["FunctionName"] for f in b("lambda").list_functions()["Functions"]],
    )


CASES: list[Case] = [
    Case(
        "s3", _s3_setup, _s3_snapshot,
        read=lambda a, r: a("s3").get_object(Bucket=r["bucket"], Key="secret.txt"),
        write=lambda a, r: a("s3").put_object(Bucket=r["bucket"], Key="secret.txt", Body=b"ada's"),
        delete=lambda a, r: a("s3").delete_object(Bucket=r["bucket"], Key="secret.txt"),
        codes=frozenset({"AccessDenied"}),
    ),
    Case(
        "s3-bucket", _s3_setup, _s3_snapshot,
        read=lambda a, r: a("s3").list_objects_v2(Bucket=r["bucket"]),
        write=lambda a, r: a("s3").copy_object(Bucket=r["bucket"], Key="copy", CopySource={"Bucket": r["bucket"], "Key": "secret.txt"}),
        delete=lambda a, r: a("s3").delete_objects(Bucket=r["bucket"], Delete={"Objects": [{"Key": "secret.txt"}]}),
        codes=frozenset({"AccessDenied"}),
    ),
    Case(
        "sns", _sns_setup_with_inbox, _sns_snapshot,
        read=lambda a, r: a("sns").get_topic_attributes(TopicArn=r["topic"]),
        write=lambda a, r: a("sns").publish(TopicArn=r["topic"], Message="from ada"),
        delete=lambda a, r: a("sns").delete_topic(TopicArn=r["topic"]),
        codes=frozenset({"AuthorizationError"}),
    ),
    Case(
        "sns-subscribe", _sns_setup_with_inbox, _sns_snapshot,
        read=lambda a, r: a("sns").list_subscriptions_by_topic(TopicArn=r["topic"]),
        write=lambda a, r: a("sns").subscribe(TopicArn=r["topic"], Protocol="email", Endpoint="ada@example.com"),
        delete=lambda a, r: a("sns").set_topic_attributes(TopicArn=r["topic"], AttributeName="DisplayName", AttributeValue="x"),
        codes=frozenset({"AuthorizationError"}),
    ),
    Case(
        "sqs", _sqs_setup, _sqs_snapshot,
        read=lambda a, r: a("sqs").receive_message(QueueUrl=r["queue"]),
        write=lambda a, r: a("sqs").send_message(QueueUrl=r["queue"], MessageBody="from ada"),
        delete=lambda a, r: a("sqs").delete_queue(QueueUrl=r["queue"]),
        codes=frozenset({"AccessDenied"}),
    ),
    Case(
        "sqs-attributes", _sqs_setup, _sqs_snapshot,
        read=lambda a, r: a("sqs").get_queue_url(QueueName=r["name"], QueueOwnerAWSAccountId=r["queue"].split("/")[-2]),
        write=lambda a, r: a("sqs").set_queue_attributes(QueueUrl=r["queue"], Attributes={"VisibilityTimeout": "99"}),
        delete=lambda a, r: a("sqs").purge_queue(QueueUrl=r["queue"]),
        codes=frozenset({"AccessDenied"}),
    ),
    Case(
        "ecs", _ecs_setup, _ecs_snapshot,
        read=lambda a, r: a("ecs").list_services(cluster=r["cluster"]),
        write=lambda a, r: a("ecs").tag_resource(resourceArn=r["cluster"], tags=[{"key": "owner", "value": "ada"}]),
        delete=lambda a, r: a("ecs").delete_cluster(cluster=r["cluster"]),
    ),
    Case(
        "ecr", _ecr_setup, _ecr_snapshot,
        read=lambda a, r: a("ecr").describe_images(registryId=r["registry"], repositoryName=r["repo"]),
        write=lambda a, r: a("ecr").tag_resource(resourceArn=r["arn"], tags=[{"Key": "owner", "Value": "ada"}]),
        delete=lambda a, r: a("ecr").delete_repository(registryId=r["registry"], repositoryName=r["repo"], force=True),
    ),
    Case(
        "elbv2", _elbv2_setup, _elbv2_snapshot,
        read=lambda a, r: a("elbv2").describe_load_balancer_attributes(LoadBalancerArn=r["lb"]),
        write=lambda a, r: a("elbv2").add_tags(ResourceArns=[r["lb"]], Tags=[{"Key": "owner", "Value": "ada"}]),
        delete=lambda a, r: a("elbv2").delete_load_balancer(LoadBalancerArn=r["lb"]),
        codes=frozenset({"AccessDenied", "LoadBalancerNotFound"}),
    ),
    Case(
        "ec2", _ec2_setup, _ec2_snapshot,
        read=lambda a, r: a("ec2").describe_security_groups(GroupIds=[r["group"]]),
        write=lambda a, r: a("ec2").authorize_security_group_ingress(
            GroupId=r["group"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        ),
        delete=lambda a, r: a("ec2").delete_security_group(GroupId=r["group"]),
        codes=frozenset({"InvalidGroup.NotFound", "UnauthorizedOperation"}),
    ),
    Case(
        "iam", _iam_setup, _iam_snapshot,
        read=lambda a, r: a("iam").get_policy(PolicyArn=r["policy"]),
        write=lambda a, r: a("iam").create_policy_version(PolicyArn=r["policy"], PolicyDocument=_POLICY),
        delete=lambda a, r: a("iam").delete_policy(PolicyArn=r["policy"]),
        codes=frozenset({"AccessDenied"}),
    ),
    Case(
        "iam-pass-role", _iam_setup, _iam_snapshot,
        read=lambda a, r: a("sts").assume_role(RoleArn=r["role"], RoleSessionName="ada"),
        write=lambda a, r: a("iam").attach_role_policy(RoleName="bobs-role", PolicyArn=r["policy"]),
        delete=lambda a, r: a("ecs").register_task_definition(
            family="ada", taskRoleArn=r["role"], containerDefinitions=[{"name": "c", "image": "nginx", "memory": 64}]
        ),
        codes=frozenset({"AccessDenied", "AccessDeniedException"}),
    ),
    Case(
        "events", _events_setup, _events_snapshot,
        read=lambda a, r: a("events").describe_event_bus(Name=r["bus"]),
        write=lambda a, r: a("events").put_events(Entries=[{"Source": "x", "DetailType": "t", "Detail": "{}", "EventBusName": r["bus"]}]),
        delete=lambda a, r: a("events").delete_rule(Name="bobs-rule", EventBusName=r["bus"]),
    ),
    Case(
        "events-tags", _events_setup, _events_snapshot,
        read=lambda a, r: a("events").list_tags_for_resource(ResourceARN=r["rule"]),
        write=lambda a, r: a("events").tag_resource(ResourceARN=r["rule"], Tags=[{"Key": "owner", "Value": "ada"}]),
        delete=lambda a, r: a("events").remove_targets(Rule="bobs-rule", EventBusName=r["bus"], Ids=["q"]),
    ),
    Case(
        "cloudwatch", _cloudwatch_setup, _cloudwatch_snapshot,
        read=lambda a, r: a("cloudwatch").list_tags_for_resource(ResourceARN=r["alarm"]),
        write=lambda a, r: a("cloudwatch").tag_resource(ResourceARN=r["alarm"], Tags=[{"Key": "owner", "Value": "ada"}]),
        delete=lambda a, r: a("cloudwatch").untag_resource(ResourceARN=r["alarm"], TagKeys=["owner"]),
        codes=frozenset({"AccessDenied", "AccessDeniedException"}),
    ),
    Case(
        "logs", _logs_setup, _logs_snapshot,
        read=lambda a, r: a("logs").list_tags_for_resource(resourceArn=r["group"]),
        write=lambda a, r: a("logs").tag_resource(resourceArn=r["group"], tags={"owner": "ada"}),
        delete=lambda a, r: a("logs").delete_log_group(logGroupName=r["group"]),
        codes=frozenset({"AccessDeniedException", "InvalidParameterException", "ResourceNotFoundException"}),
    ),
    Case(
        "dynamodb", _dynamodb_setup, _dynamodb_snapshot,
        read=lambda a, r: a("dynamodb").scan(TableName=r["table"]),
        write=lambda a, r: a("dynamodb").put_item(TableName=r["table"], Item={"k": {"S": "2"}}),
        delete=lambda a, r: a("dynamodb").delete_table(TableName=r["table"]),
    ),
    Case(
        "ssm", _ssm_setup, _ssm_snapshot,
        read=lambda a, r: a("ssm").get_parameter(Name=r["param"]),
        write=lambda a, r: a("ssm").label_parameter_version(Name=r["param"], Labels=["ada"]),
        delete=lambda a, r: a("ssm").delete_parameter(Name=r["param"]),
    ),
    Case(
        "secretsmanager", _secrets_setup, _secrets_snapshot,
        read=lambda a, r: a("secretsmanager").get_secret_value(SecretId=r["secret"]),
        write=lambda a, r: a("secretsmanager").put_secret_value(SecretId=r["secret"], SecretString="ada"),
        delete=lambda a, r: a("secretsmanager").delete_secret(SecretId=r["secret"], ForceDeleteWithoutRecovery=True),
    ),
    Case(
        "application-autoscaling", _aas_setup, _aas_snapshot,
        read=lambda a, r: a("application-autoscaling").list_tags_for_resource(ResourceARN=r["target"]),
        write=lambda a, r: a("application-autoscaling").tag_resource(ResourceARN=r["target"], Tags={"owner": "ada"}),
        delete=lambda a, r: a("application-autoscaling").untag_resource(ResourceARN=r["target"], TagKeys=["owner"]),
    ),
    Case(
        "autoscaling", _asg_setup, _asg_snapshot,
        read=lambda a, r: a("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[r["group"]]),
        write=lambda a, r: a("autoscaling").update_auto_scaling_group(AutoScalingGroupName=r["group"], MaxSize=5),
        delete=lambda a, r: a("autoscaling").delete_auto_scaling_group(AutoScalingGroupName=r["group"], ForceDelete=True),
        codes=frozenset({"AccessDenied"}),
    ),
    Case(
        "lambda", _lambda_setup, _lambda_snapshot,
        read=lambda a, r: a("lambda").get_function(FunctionName=r["fn"]),
        write=lambda a, r: a("lambda").update_function_configuration(FunctionName=r["fn"], Timeout=99),
        delete=lambda a, r: a("lambda").delete_function(FunctionName=r["fn"]),
    ),
]  # fmt: skip


def clients_of(workshop: Workshop, who: Any) -> Clients:
    """A learner's client factory (one client per service, cached)."""
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = workshop.client(who, service)
        return made[service]

    return client


@pytest.mark.parametrize("case", CASES, ids=[c.service for c in CASES])
def test_a_learner_naming_anothers_resource_is_refused_and_changes_nothing(
    workshop: Workshop, case: Case
) -> None:
    """Ada's read, write and delete of Bob's resource each get AWS's refusal; Bob sees it as it was."""
    a, b = clients_of(workshop, workshop.a), clients_of(workshop, workshop.b)
    refs = case.setup(b, workshop.b.account_id)
    before = case.snapshot(b, refs)
    for kind, attempt in (("read", case.read), ("write", case.write), ("delete", case.delete)):
        with pytest.raises(ClientError) as caught:
            attempt(a, refs)
        assert caught.value.response["Error"]["Code"] in case.codes, (kind, caught.value.response["Error"])
    assert case.snapshot(b, refs) == before


class TestBuckets:
    def test_another_learners_bucket_name_is_taken(self, workshop: Workshop) -> None:
        """Ada creating Bob's bucket name gets BucketAlreadyExists (409) and Bob keeps his bucket."""
        b3, a3 = workshop.client(workshop.b, "s3"), workshop.client(workshop.a, "s3")
        b3.create_bucket(Bucket="shared-name")
        with pytest.raises(ClientError) as caught:
            a3.create_bucket(Bucket="shared-name")
        assert caught.value.response["Error"]["Code"] == "BucketAlreadyExists"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert [x["Name"] for x in b3.list_buckets()["Buckets"]] == ["shared-name"]
        assert a3.list_buckets()["Buckets"] == []

    def test_the_owner_recreating_a_bucket_is_told_as_aws_tells(self, workshop: Workshop) -> None:
        """In us-east-1 recreating your own bucket succeeds (AWS's legacy); elsewhere it is BucketAlreadyOwnedByYou."""
        b3 = workshop.client(workshop.b, "s3")
        b3.create_bucket(Bucket="bobs-east")
        b3.put_object(Bucket="bobs-east", Key="k", Body=b"v")
        b3.create_bucket(Bucket="bobs-east")
        assert b3.get_object(Bucket="bobs-east", Key="k")["Body"].read() == b"v"
        west = {"LocationConstraint": "eu-west-1"}
        b3.create_bucket(Bucket="bobs-west", CreateBucketConfiguration=west)  # type: ignore[arg-type]
        with pytest.raises(ClientError) as caught:
            b3.create_bucket(Bucket="bobs-west", CreateBucketConfiguration=west)  # type: ignore[arg-type]
        assert caught.value.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    def test_a_deleted_bucket_name_is_free_again(self, workshop: Workshop) -> None:
        """Once Bob deletes his bucket, Ada may take the name, and then Bob cannot reach it."""
        b3, a3 = workshop.client(workshop.b, "s3"), workshop.client(workshop.a, "s3")
        b3.create_bucket(Bucket="passed-on")
        b3.delete_bucket(Bucket="passed-on")
        a3.create_bucket(Bucket="passed-on")
        with pytest.raises(ClientError, match="AccessDenied"):
            b3.list_objects_v2(Bucket="passed-on")

    def test_head_bucket_of_another_learner_is_forbidden(self, workshop: Workshop) -> None:
        """HeadBucket on Bob's bucket answers 403 to Ada (it exists, and is not hers)."""
        workshop.client(workshop.b, "s3").create_bucket(Bucket="bobs-head")
        with pytest.raises(ClientError) as caught:
            workshop.client(workshop.a, "s3").head_bucket(Bucket="bobs-head")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


class TestOwnResources:
    def test_naming_your_own_resources_by_arn_still_works(self, workshop: Workshop) -> None:
        """The wall is between accounts: Ada's own ARNs, queue URLs and buckets work as before."""
        a = clients_of(workshop, workshop.a)
        topic = a("sns").create_topic(Name="mine")["TopicArn"]
        a("sns").publish(TopicArn=topic, Message="hello")
        queue = a("sqs").create_queue(QueueName="mine")["QueueUrl"]
        a("sqs").send_message(QueueUrl=queue, MessageBody="hi")
        a("s3").create_bucket(Bucket="adas")
        a("s3").put_object(Bucket="adas", Key="k", Body=workshop.b.account_id.encode())
        assert a("s3").get_object(Bucket="adas", Key="k")["Body"].read() == workshop.b.account_id.encode()
        assert a("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hi"


def send_signed(
    workshop: Workshop, who: Any, service: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    """Send a hand-made request body signed with a learner's own credentials; return (status, body)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=workshop.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(who.access_key_id, who.secret_access_key), service, "us-east-1").add_auth(request)
    prepared = urllib.request.Request(
        workshop.url + "/", data=body, method="POST", headers=dict(request.headers)
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(prepared, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class TestEncodings:
    def test_an_arn_spelled_in_percent_escapes_is_still_anothers(self, workshop: Workshop) -> None:
        """Publishing to Bob's topic with every digit of its ARN percent-encoded is refused; Bob's queue stays empty."""
        b = clients_of(workshop, workshop.b)
        refs = _sns_setup_with_inbox(b, workshop.b.account_id)
        hidden = "".join(f"%{ord(c):02X}" if c.isdigit() else c for c in refs["topic"])
        body = f"Action=Publish&Version=2010-03-31&Message=hi&TopicArn={hidden}".encode()
        status, answer = send_signed(
            workshop,
            workshop.a,
            "sns",
            body,
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        assert status == 403
        assert b"AuthorizationError" in answer
        assert b("sqs").receive_message(QueueUrl=refs["inbox"]).get("Messages", []) == []

    def test_an_arn_spelled_in_json_unicode_escapes_is_still_anothers(self, workshop: Workshop) -> None:
        """Naming Bob's cluster with JSON \\u escapes for its digits is refused."""
        arn = workshop.client(workshop.b, "ecs").create_cluster(clusterName="bobs")["cluster"]["clusterArn"]
        hidden = "".join(f"\\u{ord(c):04x}" if c.isdigit() else c for c in arn)
        body = ('{"cluster": "' + hidden + '"}').encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DeleteCluster",
        }
        status, answer = send_signed(workshop, workshop.a, "ecs", body, headers)
        assert status == 400
        assert b"AccessDeniedException" in answer
        assert workshop.client(workshop.b, "ecs").list_clusters()["clusterArns"] == [arn]


# -- signature time ---------------------------------------------------------------------------------


def _presigner(workshop: Workshop, who: Any) -> Any:
    """An S3 client that presigns with SigV4 (the only signature a workshop server accepts)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=workshop.url,
        region_name="us-east-1",
        aws_access_key_id=who.access_key_id,
        aws_secret_access_key=who.secret_access_key,
        config=Config(signature_version="s3v4"),
    )


def _shift_server_clock(workshop: Workshop, seconds: float) -> None:
    real = workshop.app.wall_clock
    workshop.app.wall_clock = lambda: real() + seconds


class TestRequestTime:
    @pytest.mark.parametrize("skew", [16 * 60, -16 * 60])
    def test_a_request_signed_more_than_15_minutes_off_is_too_skewed(
        self, workshop: Workshop, skew: int
    ) -> None:
        """A request whose X-Amz-Date is over 15 minutes off the server's clock gets RequestTimeTooSkewed (403)."""
        _shift_server_clock(workshop, skew)
        with pytest.raises(ClientError) as caught:
            workshop.client(workshop.a, "ecs").list_clusters()
        error = caught.value.response["Error"]
        assert error["Code"] == "RequestTimeTooSkewed"
        assert (
            error["Message"] == "The difference between the request time and the current time is too large."
        )
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    def test_a_replayed_request_is_refused_once_stale(self, workshop: Workshop) -> None:
        """A request captured now and replayed 20 minutes later is refused and changes nothing."""
        sqs = workshop.client(workshop.b, "sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        _shift_server_clock(workshop, 14 * 60)
        sqs.send_message(QueueUrl=url, MessageBody="within the window")
        _shift_server_clock(workshop, 6 * 60)
        with pytest.raises(ClientError, match="RequestTimeTooSkewed"):
            sqs.send_message(QueueUrl=url, MessageBody="stale")

    def test_a_presigned_url_works_until_it_expires(self, workshop: Workshop) -> None:
        """A presigned GetObject URL reads the object; once expired it is AccessDenied "Request has expired"."""
        s3 = _presigner(workshop, workshop.a)
        s3.create_bucket(Bucket="shared")
        s3.put_object(Bucket="shared", Key="k", Body=b"hello")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "k"}, ExpiresIn=60)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=10) as response:
            assert response.read() == b"hello"
        _shift_server_clock(workshop, 61)
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(url, timeout=10)
        assert caught.value.code == 403
        body = caught.value.read().decode()
        assert "<Code>AccessDenied</Code>" in body
        assert "Request has expired" in body

    def test_a_signature_version_2_presigned_url_works_until_it_expires(self, workshop: Workshop) -> None:
        """boto3's default S3 presigned URL in us-east-1 (Signature Version 2) works until its Expires time."""
        s3 = workshop.client(workshop.a, "s3")
        s3.create_bucket(Bucket="shared-v2")
        s3.put_object(Bucket="shared-v2", Key="a b/k", Body=b"hello")
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "shared-v2", "Key": "a b/k"}, ExpiresIn=60
        )
        assert "AWSAccessKeyId=" in url
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=10) as response:
            assert response.read() == b"hello"
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(url.replace("a%20b/k", "a%20b/other"), timeout=10)
        assert b"SignatureDoesNotMatch" in caught.value.read()
        _shift_server_clock(workshop, 61)
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(url, timeout=10)
        assert caught.value.code == 403
        assert b"Request has expired" in caught.value.read()

    def test_a_presigned_url_with_a_wrong_signature_or_for_another_bucket_is_refused(
        self, workshop: Workshop
    ) -> None:
        """A tampered presigned URL is SignatureDoesNotMatch; Ada's URL for Bob's bucket is AccessDenied."""
        workshop.client(workshop.b, "s3").create_bucket(Bucket="bobs-private")
        workshop.client(workshop.b, "s3").put_object(Bucket="bobs-private", Key="k", Body=b"bob")
        s3 = _presigner(workshop, workshop.a)
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "bobs-private", "Key": "k"}, ExpiresIn=60
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(url, timeout=10)
        assert caught.value.code == 403
        assert b"AccessDenied" in caught.value.read()
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(url.replace("bobs-private/k", "bobs-private/other"), timeout=10)
        assert b"SignatureDoesNotMatch" in caught.value.read()

    def test_the_time_check_uses_the_wall_clock_not_the_sandbox_clock(self, workshop: Workshop) -> None:
        """A learner's emulated clock advanced by a day does not make their requests skewed."""
        emulator = workshop.app.emulators[workshop.a.learner]
        emulator.clock.advance(dt.timedelta(days=1).total_seconds())
        assert workshop.client(workshop.a, "ecs").list_clusters()["clusterArns"] == []
