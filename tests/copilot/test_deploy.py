"""Deploying Copilot manifests to a sandbox: the resources `copilot svc deploy` would make, shown and deleted by tags."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from labkit.copilot import (
    APP_TAG,
    CopilotError,
    delete,
    deploy,
    deploy_environment,
    find_environment,
    load_manifest,
    show,
)
from labkit.sandbox.embedded import EmbeddedSandbox

WEB = """
name: web
type: Load Balanced Web Service
image:
  location: nginxdemos/hello
  port: 80
http:
  path: '/'
  healthcheck:
    path: /
    healthy_threshold: 2
    interval: 10s
    timeout: 5s
    grace_period: 30s
cpu: 256
memory: 512
count: 2
variables:
  LOG_LEVEL: info
secrets:
  DB_PASSWORD: /demo/test/db
  TOKEN:
    secretsmanager: demo/token
environments:
  prod:
    count: 3
"""

API = """
name: api
type: Load Balanced Web Service
image:
  location: nginxdemos/hello
  port: 80
http:
  path: api
count:
  range: 1-4
  cpu_percentage: 70
  memory_percentage: 80
  requests: 500
  response_time: 2s
"""

SERVER_ADDRESS = re.compile(r"Server(?:&nbsp;| )address:(?:</span>)?\s*(?:<span>)?\s*([\d.]+):\d+")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def test_env_deploy_makes_the_network_cluster_and_load_balancer(sandbox: EmbeddedSandbox) -> None:
    """An environment is a tagged VPC with four subnets, a cluster and an ALB whose listener forwards to a default group."""
    env = deploy_environment(sandbox, "demo", "test")
    ec2, elbv2 = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc = ec2.describe_vpcs(VpcIds=[env.vpc_id])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert {"Key": APP_TAG, "Value": "demo"} in vpc["Tags"]
    assert len(env.public_subnets) == 2
    assert len(env.private_subnets) == 2
    assert (
        sandbox.client("ecs").describe_clusters(clusters=[env.cluster])["clusters"][0]["status"] == "ACTIVE"
    )
    listener = elbv2.describe_listeners(ListenerArns=[env.listener_arn])["Listeners"][0]
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    assert listener["DefaultActions"][0]["TargetGroupArn"] == env.default_target_group_arn
    assert deploy_environment(sandbox, "demo", "test") == env  # a second deploy finds it


def test_a_web_service_gets_copilots_task_definition_service_target_group_and_rule(
    sandbox: EmbeddedSandbox,
) -> None:
    """The task definition, service, target group and listener rule carry what the manifest says, as Copilot writes them."""
    env = deploy_environment(sandbox, "demo", "test")
    result = deploy(sandbox, load_manifest(WEB, env="test"), "demo", "test")
    ecs, elbv2 = sandbox.client("ecs"), sandbox.client("elbv2")

    definition = ecs.describe_task_definition(taskDefinition="demo-test-web")["taskDefinition"]
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert (definition["networkMode"], definition["cpu"], definition["memory"]) == ("awsvpc", "256", "512")
    (container,) = definition["containerDefinitions"]
    assert (container["name"], container["image"]) == ("web", "nginxdemos/hello")
    assert container["portMappings"][0]["containerPort"] == 80
    variables = {v["name"]: v["value"] for v in container["environment"]}
    assert variables["COPILOT_APPLICATION_NAME"] == "demo"
    assert variables["COPILOT_ENVIRONMENT_NAME"] == "test"
    assert variables["COPILOT_SERVICE_NAME"] == "web"
    assert variables["COPILOT_SERVICE_DISCOVERY_ENDPOINT"] == "test.demo.local"
    assert variables["COPILOT_LB_DNS"] == env.load_balancer_dns
    assert variables["LOG_LEVEL"] == "info"
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets["DB_PASSWORD"] == "/demo/test/db"
    assert secrets["TOKEN"] == f"arn:aws:secretsmanager:us-east-1:{sandbox.account_id}:secret:demo/token"

    service = ecs.describe_services(cluster=env.cluster, services=[result.service_arn])["services"][0]
    assert service["launchType"] == "FARGATE"
    assert (service["desiredCount"], service["runningCount"]) == (2, 2)
    assert service["loadBalancers"] == [
        {"targetGroupArn": result.target_group_arn, "containerName": "web", "containerPort": 80}
    ]
    assert service["healthCheckGracePeriodSeconds"] == 30
    assert service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [env.security_group]

    group = elbv2.describe_target_groups(TargetGroupArns=[result.target_group_arn])["TargetGroups"][0]
    assert (group["TargetType"], group["HealthCheckPath"], group["HealthyThresholdCount"]) == ("ip", "/", 2)
    assert (group["HealthCheckIntervalSeconds"], group["HealthCheckTimeoutSeconds"]) == (10, 5)
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_target_group_attributes(TargetGroupArn=result.target_group_arn)["Attributes"]
    }
    assert attributes["deregistration_delay.timeout_seconds"] == "60"
    rule = elbv2.describe_rules(RuleArns=[result.listener_rule_arn])["Rules"][0]
    assert rule["Conditions"][0]["Field"] == "path-pattern"
    assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/*"]
    assert rule["Priority"] == "50000"
    assert rule["Actions"][0]["TargetGroupArn"] == result.target_group_arn
    health = elbv2.describe_target_health(TargetGroupArn=result.target_group_arn)["TargetHealthDescriptions"]
    assert [h["TargetHealth"]["State"] for h in health] == ["healthy", "healthy"]
    assert result.url is not None
    assert "Server&nbsp;address" in _get(result.url) or "Server address" in _get(result.url)


def test_listener_rules_route_each_path_to_its_service(sandbox: EmbeddedSandbox) -> None:
    """With two services, /api goes to the api rule's targets and everything else to the root rule's."""
    deploy_environment(sandbox, "demo", "test")
    web = deploy(sandbox, load_manifest(WEB, env="test"), "demo", "test")
    api = deploy(sandbox, load_manifest(API, env="test"), "demo", "test")
    assert api.url is not None
    assert web.url is not None
    assert api.url.endswith("/api")
    elbv2 = sandbox.client("elbv2")

    def addresses(group: str | None) -> set[str]:
        health = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        return {h["Target"]["Id"] for h in health}

    def served_by(url: str) -> str:
        found = SERVER_ADDRESS.search(_get(url))
        assert found is not None
        return found.group(1)

    for path in ("/api", "/api/status"):
        assert served_by(web.url.rstrip("/") + path) in addresses(api.target_group_arn)
    for path in ("/", "/apiary", "/index.html"):  # /apiary matches neither /api nor /api/*
        assert served_by(web.url.rstrip("/") + path) in addresses(web.target_group_arn)
    rule = sandbox.client("elbv2").describe_rules(RuleArns=[api.listener_rule_arn])["Rules"][0]
    assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api", "/api/*"]
    assert rule["Priority"] == "1"


def test_a_range_makes_a_scalable_target_and_target_tracking_policies(sandbox: EmbeddedSandbox) -> None:
    """count.range becomes a scalable target (min, max) and one target-tracking policy per target."""
    env = deploy_environment(sandbox, "demo", "test")
    result = deploy(sandbox, load_manifest(API, env="test"), "demo", "test")
    aas = sandbox.client("application-autoscaling")
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert target["ResourceId"] == f"service/{env.cluster}/demo-test-api-Service"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    policies = {
        p["PolicyName"]: p["TargetTrackingScalingPolicyConfiguration"]
        for p in aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    }
    assert set(policies) == {
        "api-ECSServiceAverageCPUUtilization-ScalingPolicy",
        "api-ECSServiceAverageMemoryUtilization-ScalingPolicy",
        "api-ALBSumRequestCountPerTarget-ScalingPolicy",
        "api-ALBAverageResponseTime-ScalingPolicy",
    }
    cpu = policies["api-ECSServiceAverageCPUUtilization-ScalingPolicy"]
    assert cpu["TargetValue"] == 70
    assert cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert (cpu["ScaleInCooldown"], cpu["ScaleOutCooldown"]) == (120, 60)
    requests = policies["api-ALBSumRequestCountPerTarget-ScalingPolicy"]["CustomizedMetricSpecification"]
    assert requests["MetricName"] == "RequestCountPerTarget"
    assert {d["Name"] for d in requests["Dimensions"]} == {"LoadBalancer", "TargetGroup"}
    assert policies["api-ALBAverageResponseTime-ScalingPolicy"]["TargetValue"] == 2
    assert len(result.scaling_policies) == 4


def test_a_scheduled_job_is_an_eventbridge_rule_that_runs_its_task(sandbox: EmbeddedSandbox) -> None:
    """A job's schedule becomes the rule's expression; its target runs the job's task definition on Fargate."""
    env = deploy_environment(sandbox, "demo", "test")
    job = load_manifest(
        "name: report\ntype: Scheduled Job\nimage:\n  location: busybox\non:\n  schedule: '0 9 * * 1-5'\n"
    )
    result = deploy(sandbox, job, "demo", "test")
    events = sandbox.client("events")
    rule = events.describe_rule(Name="demo-test-report")
    assert rule["ScheduleExpression"] == "cron(0 9 ? * 2-6 *)"
    assert rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule="demo-test-report")["Targets"]
    assert target["Arn"] == env.cluster_arn
    assert target["EcsParameters"]["TaskDefinitionArn"] == result.task_definition_arn
    assert target["EcsParameters"]["LaunchType"] == "FARGATE"
    assert result.service_arn is None


def test_a_worker_service_gets_a_queue_subscribed_to_its_topics(sandbox: EmbeddedSandbox) -> None:
    """A Worker Service has an SQS queue (COPILOT_QUEUE_URI) subscribed to the topics it names; a missing topic is an error."""
    deploy_environment(sandbox, "demo", "test")
    worker = load_manifest(
        "name: worker\ntype: Worker Service\nimage:\n  location: busybox\n"
        "subscribe:\n  topics:\n    - name: orders\n      service: api\n"
    )
    with pytest.raises(
        CopilotError, match="SNS topic demo-test-api-orders does not exist in environment test"
    ):
        deploy(sandbox, worker, "demo", "test")
    topic = sandbox.client("sns").create_topic(Name="demo-test-api-orders")["TopicArn"]
    result = deploy(sandbox, worker, "demo", "test")
    assert result.queue_url is not None
    assert result.queue_url.endswith("demo-test-worker-EventsQueue")
    container = sandbox.client("ecs").describe_task_definition(taskDefinition="demo-test-worker")[
        "taskDefinition"
    ]["containerDefinitions"][0]
    assert {"name": "COPILOT_QUEUE_URI", "value": result.queue_url} in container["environment"]
    subscriptions = sandbox.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["Protocol"] for s in subscriptions] == ["sqs"]


def test_build_makes_an_ecr_repository_named_app_slash_service(sandbox: EmbeddedSandbox) -> None:
    """`image.build` creates the ECR repository `<app>/<svc>`; the task definition names its :latest tag."""
    deploy_environment(sandbox, "demo", "test")
    backend = load_manifest("name: jobs\ntype: Backend Service\nimage:\n  build: Dockerfile\n  port: 8080\n")
    result = deploy(sandbox, backend, "demo", "test", wait=False)
    repo = sandbox.client("ecr").describe_repositories(repositoryNames=["demo/jobs"])["repositories"][0]
    assert result.repository_uri == repo["repositoryUri"]
    image = sandbox.client("ecs").describe_task_definition(taskDefinition="demo-test-jobs")["taskDefinition"][
        "containerDefinitions"
    ][0]["image"]
    assert image == f"{repo['repositoryUri']}:latest"


def test_a_build_image_never_pushed_stops_the_deploy_with_ecs_reason(sandbox: EmbeddedSandbox) -> None:
    """labkit builds no image: until one is pushed to `<app>/<svc>:latest`, ECS cannot pull it, and deploy says so."""
    deploy_environment(sandbox, "demo", "test")
    backend = load_manifest("name: jobs\ntype: Backend Service\nimage:\n  build: Dockerfile\n  port: 8080\n")
    with pytest.raises(
        CopilotError, match=r"jobs: a task failed to start: CannotPullContainerError: .*: not found"
    ):
        deploy(sandbox, backend, "demo", "test")


def test_from_cfn_reads_cloudformation_exports_and_a_missing_one_is_an_error(
    sandbox: EmbeddedSandbox,
) -> None:
    """`from_cfn` variables and secrets take an export's value; an export that does not exist stops the deploy."""
    deploy_environment(sandbox, "demo", "test")
    manifest = (
        "name: jobs\ntype: Backend Service\nimage:\n  location: busybox\n"
        "variables:\n  TABLE:\n    from_cfn: demo-test-Table\n"
        "secrets:\n  DB:\n    from_cfn: demo-test-DbSecret\n"
    )
    with pytest.raises(
        CopilotError, match=r"variables\.TABLE\.from_cfn: no CloudFormation export named demo-test-Table"
    ):
        deploy(sandbox, load_manifest(manifest), "demo", "test")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "Table": {"Value": "orders", "Export": {"Name": "demo-test-Table"}},
            "Secret": {"Value": "/demo/test/db", "Export": {"Name": "demo-test-DbSecret"}},
        },
    }
    sandbox.client("cloudformation").create_stack(
        StackName="demo-test-addons", TemplateBody=json.dumps(template)
    )
    deploy(sandbox, load_manifest(manifest), "demo", "test")
    container = sandbox.client("ecs").describe_task_definition(taskDefinition="demo-test-jobs")[
        "taskDefinition"
    ]["containerDefinitions"][0]
    assert {"name": "TABLE", "value": "orders"} in container["environment"]
    assert container["secrets"] == [{"name": "DB", "valueFrom": "/demo/test/db"}]


def test_deploying_to_an_environment_that_is_not_there_says_so(sandbox: EmbeddedSandbox) -> None:
    """Without `env deploy` first, deploy says which command makes the environment."""
    with pytest.raises(CopilotError, match="labkit copilot env deploy --app demo --env test"):
        deploy(sandbox, load_manifest(WEB), "demo", "test")


def test_a_second_deploy_registers_a_revision_and_applies_the_environments_overrides(
    sandbox: EmbeddedSandbox,
) -> None:
    """Deploying again with prod's overrides updates the same service to revision 2 and three tasks."""
    deploy_environment(sandbox, "demo", "prod")
    first = deploy(sandbox, load_manifest(WEB), "demo", "prod")
    second = deploy(sandbox, load_manifest(WEB, env="prod"), "demo", "prod")
    assert first.service_arn == second.service_arn
    assert second.task_definition_arn.endswith("demo-prod-web:2")
    service = sandbox.client("ecs").describe_services(
        cluster="demo-prod-Cluster", services=[second.service_arn]
    )["services"][0]
    assert (service["desiredCount"], service["runningCount"]) == (3, 3)
    assert (
        len(sandbox.client("elbv2").describe_rules(ListenerArn=second.environment.listener_arn)["Rules"]) == 2
    )


def test_show_lists_what_the_tags_tie_together_and_filters_by_service(sandbox: EmbeddedSandbox) -> None:
    """show finds every resource by Copilot's tags; --name keeps one workload's."""
    deploy_environment(sandbox, "demo", "test")
    deploy(sandbox, load_manifest(API), "demo", "test")
    kinds = {r.kind for r in show(sandbox, "demo")}
    assert kinds >= {
        "vpc",
        "subnet",
        "security-group",
        "cluster",
        "load-balancer",
        "listener",
        "listener-rule",
        "target-group",
        "task-definition",
        "service",
        "scalable-target",
        "scaling-policy",
        "ssm-parameter",
    }
    only_api = show(sandbox, "demo", name="api")
    assert {r.service for r in only_api} == {"api"}
    assert show(sandbox, "other") == []


def test_delete_a_workload_keeps_the_environment(sandbox: EmbeddedSandbox) -> None:
    """Deleting one service removes its resources and leaves the environment deployed."""
    deploy_environment(sandbox, "demo", "test")
    deploy(sandbox, load_manifest(API), "demo", "test")
    gone = delete(sandbox, "demo", "test", "api")
    assert {r.kind for r in gone} >= {
        "service",
        "task-definition",
        "listener-rule",
        "target-group",
        "scaling-policy",
    }
    assert show(sandbox, "demo", name="api") == []
    assert find_environment(sandbox, "demo", "test") is not None


def test_delete_the_application_leaves_nothing_with_copilots_tags(sandbox: EmbeddedSandbox) -> None:
    """After deleting the application, no resource carries a copilot tag and a second delete does nothing."""
    deploy_environment(sandbox, "demo", "test")
    deploy(sandbox, load_manifest(WEB), "demo", "test")
    deploy(
        sandbox,
        load_manifest(
            "name: report\ntype: Scheduled Job\nimage:\n  build: Dockerfile\non:\n  schedule: '@hourly'\n"
        ),
        "demo",
        "test",
    )
    assert delete(sandbox, "demo")
    assert show(sandbox) == []
    ec2 = sandbox.client("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": [APP_TAG]}])["Vpcs"] == []
    assert sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert sandbox.client("ecs").list_task_definitions()["taskDefinitionArns"] == []
    assert sandbox.client("ecr").describe_repositories()["repositories"] == []
    assert sandbox.client("events").list_rules()["Rules"] == []
    assert delete(sandbox, "demo") == []
