"""The hardening in terraform/ as the cloud sees it after apply: encryption, recovery, tracing, alarms, tags."""

from __future__ import annotations

from typing import Any

from healops.deploy.stack import StackInfo

STACK_TAGS = {"Project": "heal-ops", "Stack": "healops"}


def has_stack_tags(tags: dict[str, str]) -> bool:
    return STACK_TAGS.items() <= tags.items()


def stack_key_arn(aws: Any) -> str:
    return aws("kms").describe_key(KeyId="alias/healops")["KeyMetadata"]["Arn"]


def test_the_stacks_key_rotates_and_encrypts_the_escalations_topic(stack: StackInfo, aws: Any) -> None:
    kms = aws("kms")
    key_arn = stack_key_arn(aws)
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    topic = aws("sns").get_topic_attributes(TopicArn=stack.outputs["sns_escalations_topic_arn"])["Attributes"]
    assert topic["KmsMasterKeyId"] == key_arn


def test_tables_keep_point_in_time_backups_and_are_encrypted(stack: StackInfo, aws: Any) -> None:
    dynamodb = aws("dynamodb")
    for name in stack.outputs["dynamodb_table_names"].values():
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", name
        assert dynamodb.describe_table(TableName=name)["Table"]["SSEDescription"]["Status"] == "ENABLED", name


def test_queues_are_encrypted_and_buckets_private_with_a_lifecycle(stack: StackInfo, aws: Any) -> None:
    sqs, s3 = aws("sqs"), aws("s3")
    for url in (stack.outputs["sqs_incidents_queue_url"], stack.outputs["sqs_incidents_dlq_url"]):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["SqsManagedSseEnabled"])["Attributes"]
        assert attributes["SqsManagedSseEnabled"] == "true", url
    for bucket in stack.outputs["s3_bucket_names"].values():
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()), bucket
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7, bucket
        assert "Expiration" in rules[0] or "NoncurrentVersionExpiration" in rules[0], bucket


def test_functions_are_traced_tagged_and_log_with_retention(stack: StackInfo, aws: Any) -> None:
    lam, logs = aws("lambda"), aws("logs")
    for name in stack.outputs["lambda_function_names"].values():
        function = lam.get_function(FunctionName=name)
        assert function["Configuration"]["TracingConfig"]["Mode"] == "Active", name
        assert has_stack_tags(function["Tags"]), name
    groups = {
        **stack.outputs["cloudwatch_lambda_log_group_names"],
        **stack.outputs["cloudwatch_service_log_group_names"],
    }
    for group in groups.values():
        [described] = [
            g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group
        ]
        assert described.get("retentionInDays") == 14, group


def test_alarms_on_the_dlq_the_functions_and_the_state_machine_notify_the_topic(stack: StackInfo, aws: Any) -> None:
    topic = stack.outputs["sns_escalations_topic_arn"]
    names = [
        *stack.outputs["cloudwatch_lambda_errors_alarm_names"].values(),
        "healops-incidents-dlq-depth",
        "healops-remediation-executions-failed",
    ]
    alarms = aws("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(names)
    assert [a["AlarmName"] for a in alarms if a["AlarmActions"] != [topic]] == []


def test_resources_of_every_kind_carry_the_stacks_tags(stack: StackInfo, aws: Any) -> None:
    table_arn = stack.outputs["dynamodb_table_arns"]["incidents"]
    assert has_stack_tags(
        {t["Key"]: t["Value"] for t in aws("dynamodb").list_tags_of_resource(ResourceArn=table_arn)["Tags"]}
    )
    assert has_stack_tags(aws("sqs").list_queue_tags(QueueUrl=stack.outputs["sqs_incidents_queue_url"])["Tags"])
    topic_tags = aws("sns").list_tags_for_resource(ResourceArn=stack.outputs["sns_escalations_topic_arn"])["Tags"]
    assert has_stack_tags({t["Key"]: t["Value"] for t in topic_tags})
    machine_tags = aws("stepfunctions").list_tags_for_resource(resourceArn=stack.outputs["sfn_state_machine_arn"])[
        "tags"
    ]
    assert has_stack_tags({t["key"]: t["value"] for t in machine_tags})
    key_tags = aws("kms").list_resource_tags(KeyId=stack_key_arn(aws))["Tags"]
    assert has_stack_tags({t["TagKey"]: t["TagValue"] for t in key_tags})
