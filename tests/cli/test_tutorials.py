"""AWS's own CLI tutorials, command by command through the AWS CLI against a server sandbox (issue 16).

Each test runs the real `aws` (awscli from PyPI) in the environment `labkit sandbox env` prints, and
names the AWS documentation the behaviour it asserts comes from.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.sandbox.server import advance_server, server_exports, start_server, stop_server
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


class AwsShell:
    """A shell set up by `labkit sandbox env`: runs `aws ...` against one server sandbox."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.env = self.environment(server_exports(state))

    @staticmethod
    def environment(exports: dict[str, str | None]) -> dict[str, str]:
        """This process's environment with `labkit sandbox env`'s exports applied (None: unset)."""
        env = {k: v for k, v in os.environ.items() if k not in exports or exports[k] is not None}
        env.update({k: v for k, v in exports.items() if v is not None})
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["aws", *args], capture_output=True, text=True, env=self.env, timeout=120, check=False
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    def error(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode != 0, done.stdout
        return done.stderr

    def advance(self, seconds: float) -> None:
        advance_server(seconds, self.state)


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsShell]:
    """One server sandbox on a manual clock (us-east-1) for the module, and a shell pointed at it."""
    state = tmp_path_factory.mktemp("tutorials") / "server.json"
    start_server(clock="manual", region="us-east-1", path=state)
    try:
        yield AwsShell(state)
    finally:
        stop_server(state)


def test_configure_get_region_in_a_sandbox_env_shell() -> None:
    """`aws configure get region` prints the sandbox's region (the ECR tutorial's first line).

    AWS CLI user guide, "Configuration and credential file settings": `aws configure get` reads the
    config file; the sandbox's holds the region only (mode 0600), no profile, no credentials.
    """
    assert run_labkit("sandbox", "start", "--clock", "manual", "--region", "eu-west-1").returncode == 0
    exports = json.loads(run_labkit("sandbox", "env", "--json").stdout)
    config = Path(exports["AWS_CONFIG_FILE"])
    assert config.parent == Path(os.environ["LABKIT_STATE_DIR"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    text = config.read_text()
    assert "region = eu-west-1" in text
    assert "aws_access_key_id" not in text
    assert "aws_secret" not in text
    assert exports["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
    assert exports["AWS_PROFILE"] is None
    got = subprocess.run(
        ["aws", "configure", "get", "region"],
        capture_output=True,
        text=True,
        env=AwsShell.environment(exports),
        timeout=60,
        check=False,
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "eu-west-1"
    assert run_labkit("sandbox", "stop").returncode == 0
    assert not config.exists()


def test_ecs_optimized_ami_recommended_parameter_is_json(aws: AwsShell) -> None:
    """The `recommended` parameter is a JSON document whose `image_id` is the `.../image_id` child.

    ECS developer guide, "Retrieving Amazon ECS-optimized Linux AMI metadata": `aws ssm get-parameters
    --names /aws/service/ecs/optimized-ami/amazon-linux-2/recommended` returns a JSON value with
    `image_id`, `image_name`, `ecs_agent_version`, ... (the tutorials pipe it to `jq -r '.image_id'`).
    """
    name = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"
    value = aws.json("ssm", "get-parameter", "--name", name, "--query", "Parameter.Value", "--output", "json")
    document = json.loads(value)
    child = aws.json("ssm", "get-parameter", "--name", f"{name}/image_id", "--query", "Parameter.Value")
    assert document["image_id"] == child
    assert document["image_id"].startswith("ami-")
    assert {"image_name", "ecs_agent_version", "os"} <= set(document)


def _ecs_ami(aws: AwsShell) -> str:
    name = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"
    return str(aws.json("ssm", "get-parameter", "--name", name, "--query", "Parameter.Value"))


def test_list_container_instances_of_a_missing_cluster_is_cluster_not_found(aws: AwsShell) -> None:
    """ECS API reference, ListContainerInstances, Errors: ClusterNotFoundException ("Cluster not found.")."""
    stderr = aws.error("ecs", "list-container-instances", "--cluster", "no-such-cluster")
    assert "ClusterNotFoundException" in stderr
    assert "Cluster not found." in stderr


def test_an_ecs_instance_without_ecs_cluster_joins_default_and_leaves_inactive(aws: AwsShell) -> None:
    """The agent joins `default` (creating it) when ECS_CLUSTER is unset; a terminated instance is deregistered.

    ECS developer guide, "Amazon ECS container agent configuration": ECS_CLUSTER defaults to `default`
    ("If this value is undefined, then the default cluster is assumed. If the default cluster does not
    exist, the Amazon ECS container agent attempts to create it"). ECS API reference,
    DeregisterContainerInstance: "If you terminate a running container instance, Amazon ECS automatically
    deregisters the instance from your cluster"; ListContainerInstances leaves INACTIVE out by default.
    """
    instance = aws.json(
        "ec2", "run-instances", "--image-id", _ecs_ami(aws), "--instance-type", "t3.small", "--count", "1",
        "--query", "Instances[0].InstanceId",
    )  # fmt: skip
    aws.advance(60)
    assert "arn:aws:ecs:us-east-1:" in json.dumps(aws.json("ecs", "list-clusters"))
    arns = aws.json("ecs", "list-container-instances", "--cluster", "default")["containerInstanceArns"]
    assert len(arns) == 1
    shown = aws.json(
        "ecs", "describe-container-instances", "--cluster", "default", "--container-instances", *arns
    )
    assert shown["containerInstances"][0]["ec2InstanceId"] == instance
    assert shown["containerInstances"][0]["status"] == "ACTIVE"
    aws.json("ec2", "terminate-instances", "--instance-ids", instance)
    aws.advance(5)
    assert aws.json("ecs", "list-container-instances", "--cluster", "default")["containerInstanceArns"] == []
    inactive = aws.json("ecs", "list-container-instances", "--cluster", "default", "--status", "INACTIVE")
    assert inactive["containerInstanceArns"] == arns
    gone = aws.json(
        "ecs", "describe-container-instances", "--cluster", "default", "--container-instances", *arns
    )
    assert gone["containerInstances"][0]["status"] == "INACTIVE"
    assert gone["containerInstances"][0]["agentConnected"] is False


def test_a_plain_instance_joins_no_cluster(aws: AwsShell) -> None:
    """An instance of an AMI without the ECS agent (not an ECS-optimized AMI) registers nowhere."""
    instance = aws.json(
        "ec2", "run-instances", "--image-id", "ami-12c6146b", "--instance-type", "t3.small", "--count", "1",
        "--query", "Instances[0].InstanceId",
    )  # fmt: skip
    aws.advance(60)
    for arn in aws.json("ecs", "list-clusters")["clusterArns"]:
        for status in ("ACTIVE", "INACTIVE"):
            listed = aws.json("ecs", "list-container-instances", "--cluster", arn, "--status", status)
            arns = listed["containerInstanceArns"]
            if arns:
                shown = aws.json(
                    "ecs", "describe-container-instances", "--cluster", arn, "--container-instances", *arns
                )
                assert instance not in {ci["ec2InstanceId"] for ci in shown["containerInstances"]}


def test_an_instance_private_ip_lies_inside_its_subnet(aws: AwsShell) -> None:
    """EC2 user guide, "Private IPv4 addresses": the primary private address comes from the subnet's range."""
    import ipaddress

    instances = aws.json(
        "ec2", "run-instances", "--image-id", _ecs_ami(aws), "--instance-type", "t3.micro", "--count", "2",
        "--query", "Instances[].[PrivateIpAddress,SubnetId]",
    )  # fmt: skip
    for address, subnet in instances:
        cidr = aws.json("ec2", "describe-subnets", "--subnet-ids", subnet, "--query", "Subnets[0].CidrBlock")
        assert ipaddress.ip_address(address) in ipaddress.ip_network(cidr)


def test_a_missing_instance_profile_is_invalid_parameter_value(aws: AwsShell) -> None:
    """RunInstances with an instance profile that does not exist: EC2's InvalidParameterValue, as AWS words it."""
    stderr = aws.error(
        "ec2", "run-instances", "--image-id", _ecs_ami(aws), "--count", "1",
        "--iam-instance-profile", "Name=ecsInstanceRole-missing",
    )  # fmt: skip
    assert "InvalidParameterValue" in stderr
    assert (
        "Value (ecsInstanceRole-missing) for parameter iamInstanceProfile.name is invalid. "
        "Invalid IAM Instance Profile name"
    ) in stderr


def test_public_ips_come_from_documentation_ranges_with_aws_shaped_fields(aws: AwsShell) -> None:
    """A public IP is in RFC 5737's ranges; its association shows IpOwnerId `amazon` and a matching DNS name.

    EC2 API reference, NetworkInterfaceAssociation: IpOwnerId is "The ID of the Elastic IP address
    owner" (`amazon` for an Amazon-provided address); EC2 user guide, "Amazon EC2 instance hostname
    types": public names are `ec2-A-B-C-D.compute-1.amazonaws.com` in us-east-1.
    """
    from labkit.sandbox.simulator.addresses import is_documentation_address

    instance = aws.json(
        "ec2", "run-instances", "--image-id", _ecs_ami(aws), "--count", "1", "--query", "Instances[0]",
    )  # fmt: skip
    address = instance["PublicIpAddress"]
    assert is_documentation_address(address)
    interfaces = aws.json(
        "ec2", "describe-network-interfaces", "--filters", f"Name=attachment.instance-id,Values={instance['InstanceId']}",
    )  # fmt: skip
    association = interfaces["NetworkInterfaces"][0]["Association"]
    assert association["IpOwnerId"] == "amazon"
    assert association["PublicIp"] == address
    assert association["PublicDnsName"] == "ec2-" + address.replace(".", "-") + ".compute-1.amazonaws.com"


def _fargate_network(aws: AwsShell) -> str:
    subnet = aws.json("ec2", "describe-subnets", "--query", "Subnets[0].SubnetId")
    return f"awsvpcConfiguration={{subnets=[{subnet}],assignPublicIp=ENABLED}}"


def test_fargate_tutorial_sample_app_serves_its_page_at_the_tasks_public_ip(
    aws: AwsShell, tmp_path: Path
) -> None:
    """The ECS developer guide's "Creating an Amazon ECS Linux task for the Fargate launch type with the AWS CLI".

    Its task definition runs httpd with `entryPoint ["sh", "-c"]` and a command that writes index.html
    then runs `httpd-foreground`; "open the task's public IP" shows that page. Here the public IP is a
    documentation address and `labkit sandbox urls` gives the loopback URL that answers for it.
    """
    import urllib.request

    from labkit.sandbox.simulator.addresses import is_documentation_address
    from tests.dataplane.test_commands import TUTORIAL_COMMAND

    definition = {
        "family": "sample-fargate",
        "networkMode": "awsvpc",
        "containerDefinitions": [
            {
                "name": "fargate-app",
                "image": "public.ecr.aws/docker/library/httpd:latest",
                "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
                "essential": True,
                "entryPoint": ["sh", "-c"],
                "command": [TUTORIAL_COMMAND],
            }
        ],
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
    }
    (tmp_path / "task.json").write_text(json.dumps(definition))
    aws.json("ecs", "create-cluster", "--cluster-name", "fargate-cluster")
    aws.json("ecs", "register-task-definition", "--cli-input-json", f"file://{tmp_path / 'task.json'}")
    aws.json(
        "ecs", "create-service", "--cluster", "fargate-cluster", "--service-name", "fargate-service",
        "--task-definition", "sample-fargate:1", "--desired-count", "1", "--launch-type", "FARGATE",
        "--network-configuration", _fargate_network(aws),
    )  # fmt: skip
    aws.advance(120)
    task = aws.json("ecs", "list-tasks", "--cluster", "fargate-cluster", "--service-name", "fargate-service")
    described = aws.json(
        "ecs", "describe-tasks", "--cluster", "fargate-cluster", "--tasks", *task["taskArns"]
    )
    details = {d["name"]: d["value"] for d in described["tasks"][0]["attachments"][0]["details"]}
    public_ip = aws.json(
        "ec2", "describe-network-interfaces", "--network-interface-ids", details["networkInterfaceId"],
        "--query", "NetworkInterfaces[0].Association.PublicIp",
    )  # fmt: skip
    assert is_documentation_address(public_ip)
    env = {"LABKIT_STATE_DIR": str(aws.state.parent)}
    rows = json.loads(run_labkit("sandbox", "urls", "--json", env=env).stdout)
    row = next(r for r in rows if r.get("kind") == "task")
    assert row["public_ip"] == public_ip
    assert row["public_url"] == f"http://{public_ip}/"
    text = run_labkit("sandbox", "urls", env=env).stdout
    assert f"{row['url']}  task " in text
    assert f"(http://{public_ip}/)" in text
    with urllib.request.urlopen(row["url"], timeout=10) as response:
        page = response.read().decode()
    assert "<title>Amazon ECS Sample App</title>" in page
    assert "It works!" not in page
    aws.json(
        "ecs", "update-service", "--cluster", "fargate-cluster", "--service", "fargate-service", "--desired-count", "0"
    )  # fmt: skip


def _run_one_container(aws: AwsShell, cluster: str, container: dict[str, Any]) -> str:
    """Register a one-container Fargate task definition (family = cluster), run one task; its ARN."""
    aws.json(
        "ecs", "register-task-definition", "--family", cluster, "--network-mode", "awsvpc",
        "--requires-compatibilities", "FARGATE", "--cpu", "256", "--memory", "512",
        "--container-definitions", json.dumps([container]),
    )  # fmt: skip
    aws.json("ecs", "create-cluster", "--cluster-name", cluster)
    arn = aws.json(
        "ecs", "run-task", "--cluster", cluster, "--task-definition", cluster, "--launch-type", "FARGATE",
        "--network-configuration", _fargate_network(aws), "--query", "tasks[0].taskArn",
    )  # fmt: skip
    return str(arn)


def test_a_task_running_sleep_exits_zero_after_its_emulated_seconds(aws: AwsShell) -> None:
    """A container whose command is `sleep 360` stops with exit code 0 after 360 s (AWS: the process ends)."""
    arn = _run_one_container(
        aws, "sleepers", {"name": "sleep", "image": "busybox", "command": ["sleep", "360"]}
    )
    aws.advance(120)
    running = aws.json("ecs", "describe-tasks", "--cluster", "sleepers", "--tasks", arn)["tasks"][0]
    assert running["lastStatus"] == "RUNNING"
    aws.advance(360)
    stopped = aws.json("ecs", "describe-tasks", "--cluster", "sleepers", "--tasks", arn)["tasks"][0]
    assert stopped["lastStatus"] in ("DEPROVISIONING", "STOPPED")
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["containers"][0]["exitCode"] == 0


def test_a_command_the_sandbox_does_not_interpret_says_so(aws: AwsShell) -> None:
    """Another program runs the image's default behaviour, and the container's `reason` says it was not interpreted."""
    container = {"name": "app", "image": "httpd:2.4", "command": ["python3", "-m", "http.server"]}
    arn = _run_one_container(aws, "others", container)
    aws.advance(120)
    task = aws.json("ecs", "describe-tasks", "--cluster", "others", "--tasks", arn)["tasks"][0]
    assert task["lastStatus"] == "RUNNING"
    assert "not interpreted: python3 -m http.server" in task["containers"][0]["reason"]


def test_load_balancing_tutorial_fail_open_certificate_and_health_check_port(aws: AwsShell) -> None:
    """ELB tutorial behaviours: fail open, a pending certificate refused, HealthCheckPort the checked port.

    ELB user guide, "Health checks for Application Load Balancer target groups": "If all targets in a
    target group are unhealthy, the load balancer routes requests to all of them" (fail open).
    ELBv2 API reference, CreateListener errors: CertificateNotFound ("The specified certificate does not
    exist"; a certificate still PENDING_VALIDATION is answered so too, aws-cdk issue 6081).
    DescribeTargetHealth's example output shows `"HealthCheckPort": "80"` for a traffic-port check.
    """
    import urllib.request

    vpc = aws.json("ec2", "describe-vpcs", "--query", "Vpcs[0].VpcId")
    subnets = aws.json("ec2", "describe-subnets", "--query", "Subnets[:2].SubnetId")
    lb = aws.json(
        "elbv2", "create-load-balancer", "--name", "tutorial-alb", "--subnets", *subnets,
        "--query", "LoadBalancers[0].LoadBalancerArn",
    )  # fmt: skip
    tg = aws.json(
        "elbv2", "create-target-group", "--name", "tutorial-tg", "--protocol", "HTTP", "--port", "80",
        "--vpc-id", vpc, "--target-type", "ip", "--health-check-path", "/no-such-page",
        "--query", "TargetGroups[0].TargetGroupArn",
    )  # fmt: skip
    assert (
        aws.json("elbv2", "describe-target-groups", "--target-group-arns", tg)["TargetGroups"][0][
            "HealthCheckPort"
        ]
        == "traffic-port"
    )  # the API default, as CreateTargetGroup's reference says
    certificate = aws.json(
        "acm", "request-certificate", "--domain-name", "www.example.com", "--validation-method", "DNS",
        "--query", "CertificateArn",
    )  # fmt: skip
    refused = aws.error(
        "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS", "--port", "443",
        "--certificates", f"CertificateArn={certificate}",
        "--default-actions", f"Type=forward,TargetGroupArn={tg}",
    )  # fmt: skip
    assert "CertificateNotFound" in refused
    assert f"Certificate '{certificate}' not found" in refused
    aws.json(
        "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", "80",
        "--default-actions", f"Type=forward,TargetGroupArn={tg}",
    )  # fmt: skip
    aws.json(
        "ecs", "register-task-definition", "--family", "web", "--network-mode", "awsvpc",
        "--requires-compatibilities", "FARGATE", "--cpu", "256", "--memory", "512",
        "--container-definitions",
        json.dumps([{"name": "web", "image": "httpd:2.4", "portMappings": [{"containerPort": 80}]}]),
    )  # fmt: skip
    aws.json("ecs", "create-cluster", "--cluster-name", "lb-cluster")
    aws.advance(181)  # a new load balancer is `provisioning` for 180 s; it health-checks once `active`
    aws.json(
        "ecs", "create-service", "--cluster", "lb-cluster", "--service-name", "web", "--task-definition", "web",
        "--desired-count", "1", "--launch-type", "FARGATE", "--network-configuration", _fargate_network(aws),
        "--load-balancers", f"targetGroupArn={tg},containerName=web,containerPort=80",
    )  # fmt: skip
    aws.advance(200)
    health = aws.json("elbv2", "describe-target-health", "--target-group-arn", tg)["TargetHealthDescriptions"]
    # ECS replaces the failing tasks, so some targets drain; none is healthy, and the unhealthy one gets traffic.
    states = {h["TargetHealth"]["State"] for h in health}
    assert "unhealthy" in states
    assert "healthy" not in states
    assert {h["HealthCheckPort"] for h in health} == {"80"}
    env = {"LABKIT_STATE_DIR": str(aws.state.parent)}
    rows = json.loads(run_labkit("sandbox", "urls", "--json", env=env).stdout)
    url = next(r["url"] for r in rows if r.get("load_balancer_name") == "tutorial-alb")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert "It works!" in response.read().decode()
    aws.json("ecs", "update-service", "--cluster", "lb-cluster", "--service", "web", "--desired-count", "0")
