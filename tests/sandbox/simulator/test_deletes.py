"""Deletes AWS refuses are refused, with AWS's codes and words, and succeed once what they wait on is gone.

Codes are botocore's models' (ECS DeleteCluster's errors; ELBv2 DeleteTargetGroup's `ResourceInUse`,
DeleteLoadBalancer's `OperationNotPermitted`; IAM DeleteRole's `DeleteConflict`; ECR DeleteRepository's
`RepositoryNotEmptyException`). EC2's `DependencyViolation` for a group in use is in the EC2 API
Reference, DeleteSecurityGroup ("If you attempt to delete a security group that is associated with an
instance, or is referenced by another security group, the operation fails with ... DependencyViolation").
The messages are the ones AWS answers, as users quote them (cited at each test).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.images import build_oci_image
from labkit.registry.client import client_for
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import AwsCli, Stack


def _refused(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def _tasks_stopped(stack: Stack) -> bool:
    arns = stack.ecs.list_tasks(cluster=stack.cluster, desiredStatus="STOPPED")["taskArns"]
    running = stack.ecs.list_tasks(cluster=stack.cluster)["taskArns"]
    if running or not arns:
        return not running and not arns
    tasks = stack.ecs.describe_tasks(cluster=stack.cluster, tasks=arns)["tasks"]
    return all(t["lastStatus"] == "STOPPED" for t in tasks)


def test_a_cluster_with_an_active_service_is_not_deleted(stack: Stack) -> None:
    """ClusterContainsServicesException while the service is ACTIVE (aws/amazon-ecs-cli#368); the service keeps running."""
    stack.create_service(desired=1)
    stack.sandbox.advance(120)
    code, message = _refused(stack.ecs.delete_cluster, cluster=stack.cluster)
    assert (code, message) == (
        "ClusterContainsServicesException",
        "The Cluster cannot be deleted while Services are active.",
    )
    described = stack.ecs.describe_clusters(clusters=[stack.cluster])["clusters"][0]
    assert described["status"] == "ACTIVE"
    assert stack.service()["runningCount"] == 1


def test_a_cluster_with_stopping_tasks_is_not_deleted_until_they_stop(stack: Stack) -> None:
    """After delete-service --force its tasks are still stopping: ClusterContainsTasksException (gruntwork-io/cloud-nuke#368), then it goes."""
    stack.create_service(desired=2)
    stack.sandbox.advance(120)
    stack.ecs.delete_service(cluster=stack.cluster, service="web", force=True)
    code, message = _refused(stack.ecs.delete_cluster, cluster=stack.cluster)
    assert (code, message) == (
        "ClusterContainsTasksException",
        "The Cluster cannot be deleted while Tasks are active.",
    )
    advance_until(stack.sandbox, lambda: _tasks_stopped(stack), what="tasks stopped", limit=600)
    assert stack.ecs.delete_cluster(cluster=stack.cluster)["cluster"]["status"] == "INACTIVE"


def test_a_cluster_with_a_standalone_task_is_not_deleted(stack: Stack) -> None:
    """A RunTask task that is not STOPPED keeps its cluster, as on AWS."""
    stack.ecs.run_task(
        cluster=stack.cluster, taskDefinition="nginx-demo-hello:1", launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}},
    )  # fmt: skip
    assert _refused(stack.ecs.delete_cluster, cluster=stack.cluster)[0] == "ClusterContainsTasksException"


def test_a_cluster_with_container_instances_is_not_deleted(sandbox: EmbeddedSandbox) -> None:
    """A registered container instance: ClusterContainsContainerInstancesException (aws/aws-cli#2078) until it is deregistered."""
    ecs, ec2 = sandbox.client("ecs"), sandbox.client("ec2")
    ecs.create_cluster(clusterName="ec2")
    user_data = "#!/bin/bash\necho ECS_CLUSTER=ec2 >> /etc/ecs/ecs.config\n"
    ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.small", MinCount=1, MaxCount=1, UserData=user_data
    )
    sandbox.advance(31)
    arn = ecs.list_container_instances(cluster="ec2")["containerInstanceArns"][0]
    code, message = _refused(ecs.delete_cluster, cluster="ec2")
    assert (code, message) == (
        "ClusterContainsContainerInstancesException",
        "The Cluster cannot be deleted while Container Instances are active.",
    )
    ecs.deregister_container_instance(cluster="ec2", containerInstance=arn, force=True)
    assert ecs.delete_cluster(cluster="ec2")["cluster"]["status"] == "INACTIVE"


def _group(stack: Stack, name: str) -> str:
    return str(
        stack.ec2.create_security_group(GroupName=name, Description=name, VpcId=stack.vpc_id)["GroupId"]
    )


def test_a_security_group_used_by_a_tasks_interface_is_not_deleted_until_the_task_stops(stack: Stack) -> None:
    """DependencyViolation "resource sg-... has a dependent object" (hashicorp/terraform-provider-aws#1671)."""
    tasks_sg = _group(stack, "tasks")
    stack.create_service(
        desired=1, load_balanced=False,
        networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets, "securityGroups": [tasks_sg]}},
    )  # fmt: skip
    stack.sandbox.advance(120)
    code, message = _refused(stack.ec2.delete_security_group, GroupId=tasks_sg)
    assert (code, message) == ("DependencyViolation", f"resource {tasks_sg} has a dependent object")
    stack.ecs.delete_service(cluster=stack.cluster, service="web", force=True)
    advance_until(stack.sandbox, lambda: _tasks_stopped(stack), what="tasks stopped", limit=600)
    stack.ec2.delete_security_group(GroupId=tasks_sg)


def test_a_security_group_of_a_load_balancer_or_named_in_a_rule_is_not_deleted(stack: Stack) -> None:
    """The ALB's group is refused while the ALB has it and while another group's rule names it."""
    alb_sg, tasks_sg = _group(stack, "alb"), _group(stack, "tasks")
    stack.ec2.authorize_security_group_ingress(
        GroupId=tasks_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]}
        ],
    )
    lb = stack.elb.create_load_balancer(Name="guarded", Subnets=stack.subnets, SecurityGroups=[alb_sg])
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    assert _refused(stack.ec2.delete_security_group, GroupId=alb_sg)[0] == "DependencyViolation"
    stack.elb.delete_load_balancer(LoadBalancerArn=lb_arn)
    # Still named in the tasks group's rule.
    assert _refused(stack.ec2.delete_security_group, GroupId=alb_sg) == (
        "DependencyViolation",
        f"resource {alb_sg} has a dependent object",
    )
    stack.ec2.delete_security_group(GroupId=tasks_sg)
    stack.ec2.delete_security_group(GroupId=alb_sg)
    # A group whose own rule names itself goes, rule and all.
    own = _group(stack, "self")
    stack.ec2.authorize_security_group_ingress(
        GroupId=own,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": own}]}],
    )
    stack.ec2.delete_security_group(GroupId=own)


def test_a_target_group_in_use_by_a_listener_is_not_deleted(stack: Stack) -> None:
    """ResourceInUse "Target group '...' is currently in use by a listener or a rule" (hashicorp/terraform#13076)."""
    code, message = _refused(stack.elb.delete_target_group, TargetGroupArn=stack.target_group_arn)
    assert (code, message) == (
        "ResourceInUse",
        f"Target group '{stack.target_group_arn}' is currently in use by a listener or a rule",
    )
    for listener in stack.elb.describe_listeners(LoadBalancerArn=stack.load_balancer_arn)["Listeners"]:
        stack.elb.delete_listener(ListenerArn=listener["ListenerArn"])
    stack.elb.delete_target_group(TargetGroupArn=stack.target_group_arn)


def test_a_load_balancer_with_deletion_protection_is_not_deleted(stack: Stack) -> None:
    """OperationNotPermitted "... cannot be deleted because deletion protection is enabled" (rebuy-de/aws-nuke#1240)."""
    arn = stack.load_balancer_arn
    stack.elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
    )
    code, message = _refused(stack.elb.delete_load_balancer, LoadBalancerArn=arn)
    assert (code, message) == (
        "OperationNotPermitted",
        f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
    )
    assert stack.elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    stack.elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
    )
    stack.elb.delete_load_balancer(LoadBalancerArn=arn)


def test_a_subnet_and_a_vpc_with_dependencies_are_not_deleted(sandbox: EmbeddedSandbox) -> None:
    """A subnet with an interface, a VPC with a subnet, an internet gateway or a group: DependencyViolation."""
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    assert _refused(ec2.delete_subnet, SubnetId=subnet) == (
        "DependencyViolation",
        f"The subnet '{subnet}' has dependencies and cannot be deleted.",
    )
    assert _refused(ec2.delete_vpc, VpcId=vpc) == (
        "DependencyViolation",
        f"The vpc '{vpc}' has dependencies and cannot be deleted.",
    )
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_subnet(SubnetId=subnet)
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    group = ec2.create_security_group(GroupName="own", Description="own", VpcId=vpc)["GroupId"]
    assert _refused(ec2.delete_vpc, VpcId=vpc)[0] == "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    assert _refused(ec2.delete_vpc, VpcId=vpc)[0] == "DependencyViolation"
    ec2.delete_security_group(GroupId=group)
    ec2.delete_vpc(VpcId=vpc)


def test_a_role_with_policies_and_a_repository_with_images_are_not_deleted(
    sandbox: EmbeddedSandbox, tmp_path: Path
) -> None:
    """IAM DeleteConflict until policies are detached; ECR RepositoryNotEmptyException without force."""
    iam, ecr = sandbox.client("iam"), sandbox.client("ecr")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam.create_role(RoleName="exec", AssumeRolePolicyDocument=json.dumps(trust))
    policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    iam.attach_role_policy(RoleName="exec", PolicyArn=policy)
    assert _refused(iam.delete_role, RoleName="exec") == (
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
    )
    iam.detach_role_policy(RoleName="exec", PolicyArn=policy)
    iam.delete_role(RoleName="exec")

    ecr.create_repository(repositoryName="web")
    image = build_oci_image(tmp_path / "image", files={"index.html": "hi"}, tag="v1")
    client_for(sandbox).push_layout(image.path, "web", "v1", source_tag="v1")
    code, message = _refused(ecr.delete_repository, repositoryName="web")
    assert code == "RepositoryNotEmptyException"
    assert message.startswith("The repository with name 'web' in registry with id ")
    assert message.endswith("cannot be deleted because it still contains images")
    ecr.delete_repository(repositoryName="web", force=True)


def test_moto_on_its_own_keeps_its_own_behaviour() -> None:
    """An account without a simulator (moto used directly in this process) is not changed by these hooks."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        ecs.create_cluster(clusterName="plain")
        ecs.register_task_definition(
            family="f", containerDefinitions=[{"name": "c", "image": "nginx", "memory": 64}]
        )
        ecs.create_service(cluster="plain", serviceName="s", taskDefinition="f", desiredCount=0)
        assert ecs.delete_cluster(cluster="plain")["cluster"]["status"] == "INACTIVE"


# -- the same through the AWS CLI ------------------------------------------------------------------


def _cli_refused(aws: AwsCli, *args: str) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--output", "json"],
        capture_output=True, text=True, env=aws.env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    return done.stderr


@pytest.mark.slow
def test_a_clean_up_in_the_wrong_order_is_refused_through_the_aws_cli(aws_cli: AwsCli) -> None:
    """Each refusal as the AWS CLI prints it, then the right order deletes everything."""
    aws = aws_cli
    vpc = aws("ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true")["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in aws("ec2", "describe-subnets")["Subnets"]][:2]
    alb_sg = aws(
        "ec2", "create-security-group", "--group-name", "alb", "--description", "a", "--vpc-id", vpc
    )["GroupId"]
    task_sg = aws("ec2", "create-security-group", "--group-name", "t", "--description", "t", "--vpc-id", vpc)[
        "GroupId"
    ]
    aws("ec2", "authorize-security-group-ingress", "--group-id", task_sg, "--protocol", "tcp", "--port", "80", "--source-group", alb_sg)  # fmt: skip
    lb = aws(
        "elbv2", "create-load-balancer", "--name", "web", "--subnets", *subnets, "--security-groups", alb_sg
    )["LoadBalancers"][0]["LoadBalancerArn"]
    aws("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb, "--attributes", "Key=deletion_protection.enabled,Value=true")  # fmt: skip
    tg = aws("elbv2", "create-target-group", "--name", "web", "--protocol", "HTTP", "--port", "80", "--vpc-id", vpc, "--target-type", "ip")["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    aws("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", "80", "--default-actions", f"Type=forward,TargetGroupArn={tg}")  # fmt: skip
    aws("ecs", "create-cluster", "--cluster-name", "course")
    aws("ecs", "register-task-definition", "--family", "web", "--requires-compatibilities", "FARGATE", "--network-mode", "awsvpc", "--cpu", "256", "--memory", "512", "--container-definitions", '[{"name":"web","image":"nginxdemos/hello","portMappings":[{"containerPort":80}]}]')  # fmt: skip
    aws("ecs", "create-service", "--cluster", "course", "--service-name", "web", "--task-definition", "web", "--desired-count", "1", "--launch-type", "FARGATE", "--network-configuration", f"awsvpcConfiguration={{subnets=[{subnets[0]}],securityGroups=[{task_sg}]}}")  # fmt: skip
    aws.advance(120)

    assert "(ClusterContainsServicesException) when calling the DeleteCluster operation: The Cluster cannot be deleted while Services are active." in _cli_refused(aws, "ecs", "delete-cluster", "--cluster", "course")  # fmt: skip
    assert f"(DependencyViolation) when calling the DeleteSecurityGroup operation: resource {task_sg} has a dependent object" in _cli_refused(aws, "ec2", "delete-security-group", "--group-id", task_sg)  # fmt: skip
    assert f"resource {alb_sg} has a dependent object" in _cli_refused(aws, "ec2", "delete-security-group", "--group-id", alb_sg)  # fmt: skip
    assert "(ResourceInUse) when calling the DeleteTargetGroup operation: Target group" in _cli_refused(aws, "elbv2", "delete-target-group", "--target-group-arn", tg)  # fmt: skip
    assert "(OperationNotPermitted) when calling the DeleteLoadBalancer operation" in _cli_refused(aws, "elbv2", "delete-load-balancer", "--load-balancer-arn", lb)  # fmt: skip
    assert f"The subnet '{subnets[0]}' has dependencies and cannot be deleted." in _cli_refused(aws, "ec2", "delete-subnet", "--subnet-id", subnets[0])  # fmt: skip

    aws("ecs", "delete-service", "--cluster", "course", "--service", "web", "--force")
    assert "(ClusterContainsTasksException)" in _cli_refused(
        aws, "ecs", "delete-cluster", "--cluster", "course"
    )
    aws.advance(300)
    aws("ecs", "delete-cluster", "--cluster", "course")
    aws("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb, "--attributes", "Key=deletion_protection.enabled,Value=false")  # fmt: skip
    aws("elbv2", "delete-load-balancer", "--load-balancer-arn", lb)
    aws("elbv2", "delete-target-group", "--target-group-arn", tg)
    aws("ec2", "delete-security-group", "--group-id", task_sg)
    aws("ec2", "delete-security-group", "--group-id", alb_sg)

    aws("iam", "create-role", "--role-name", "exec", "--assume-role-policy-document", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}')  # fmt: skip
    aws("iam", "attach-role-policy", "--role-name", "exec", "--policy-arn", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")  # fmt: skip
    assert "(DeleteConflict) when calling the DeleteRole operation: Cannot delete entity, must detach all policies first." in _cli_refused(aws, "iam", "delete-role", "--role-name", "exec")  # fmt: skip
