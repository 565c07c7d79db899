"""The real Terraform applied to the embedded cloud, exercised through real boto3 calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from healops.deploy.stack import StackInfo, StackOptions, terraform_runner
from tests.helpers import wait_for


def log_messages(logs: Any, group: str, pattern: str) -> list[str]:
    try:
        events = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in events]


def incident(incident_id: str, service: str = "checkout") -> str:
    return json.dumps(
        {
            "incident_id": incident_id,
            "service": service,
            "kind": "error_rate",
            "opened_at": datetime.now(tz=UTC).isoformat(),
            "summary": "end-to-end test incident",
        }
    )


def test_every_function_is_deployed_under_its_plain_name(stack: StackInfo, aws: Any) -> None:
    names = {f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]}
    assert {"detector", "remediator", "planner", "injector", "metrics_generator"} <= names
    assert stack.outputs["lambda_function_names"]["injector"] == "injector"


def deployed_statements(aws: Any, function: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies of ``function``'s role, as IAM holds them."""
    iam = aws("iam")
    role = aws("lambda").get_function_configuration(FunctionName=function)["Role"].rsplit("/", 1)[-1]
    statements: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            actions = statement["Action"]
            resources = statement["Resource"]
            statements.append(
                {
                    "actions": {actions} if isinstance(actions, str) else set(actions),
                    "resources": [resources] if isinstance(resources, str) else list(resources),
                }
            )
    return statements


def test_the_deployed_remediator_cannot_read_the_llm_settings_and_the_planner_cannot_act(
    stack: StackInfo, aws: Any
) -> None:
    environment = aws("lambda").get_function_configuration(FunctionName="planner")["Environment"]["Variables"]
    llm_path = environment["HEALOPS_LLM_PARAMETERS_PATH"]
    remediator = deployed_statements(aws, "remediator")
    assert remediator, "the remediator's role has no inline policy"
    reads_llm = [
        s
        for s in remediator
        if {a for a in s["actions"] if a.startswith("ssm:GetParameter")}
        and any(r == "*" or f"parameter{llm_path}" in r for r in s["resources"])
    ]
    assert reads_llm == [], "the remediator's role may read the LLM parameters"
    assert [s for s in remediator if "kms:Decrypt" in s["actions"]] == []

    planner = deployed_statements(aws, "planner")
    assert [s for s in planner if f"parameter{llm_path}" in " ".join(s["resources"])], "the planner reads no setting"
    acting_tables = {environment[f"HEALOPS_{name}_TABLE"] for name in ("FLEET", "REMEDIATIONS", "INCIDENTS")}
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    written = {
        resource.split(":table/", 1)[-1].split("/", 1)[0]
        for s in planner
        if writes & s["actions"] or "dynamodb:*" in s["actions"]
        for resource in s["resources"]
    }
    assert written == {environment["HEALOPS_LLM_ACTIONS_TABLE"], environment["HEALOPS_AGENT_DECISIONS_TABLE"]}
    assert not written & acting_tables
    assert not [a for s in planner for a in s["actions"] if a.split(":")[0] in ("lambda", "sqs", "states", "sns")]


def test_direct_invoke_answers_and_bad_input_is_a_function_error(aws: Any) -> None:
    lam = aws("lambda")
    ok = lam.invoke(FunctionName="injector", Payload=json.dumps({"action": "list"}))
    assert "FunctionError" not in ok, ok["Payload"].read()
    assert "inject" in json.dumps(json.loads(ok["Payload"].read()))

    bad = lam.invoke(FunctionName="injector", Payload=json.dumps({"action": "explode"}))
    assert bad["FunctionError"] == "Unhandled"
    error = json.loads(bad["Payload"].read())
    assert "action" in error["errorMessage"] and "inject" in error["errorMessage"]


def test_schedule_rule_fires_metrics_generator_which_writes_its_heartbeat(stack: StackInfo, aws: Any) -> None:
    cloudwatch = aws("cloudwatch")
    namespace = stack.outputs["cloudwatch_metrics_namespace"]

    def heartbeats() -> float:
        now = datetime.now(tz=UTC)
        stats = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName="Heartbeat",
            Dimensions=[{"Name": "Service", "Value": "heal-ops"}],
            StartTime=datetime.fromtimestamp(now.timestamp() - 600, tz=UTC),
            EndTime=now,
            Period=600,
            Statistics=["SampleCount"],
        )["Datapoints"]
        return sum(d["SampleCount"] for d in stats)

    # At time scale 60 the tick fires every second: several heartbeats within seconds.
    assert wait_for(lambda: heartbeats() >= 3, timeout=30)
    logs = aws("logs")
    assert wait_for(lambda: log_messages(logs, "/aws/lambda/detector", '"REPORT RequestId"'))


def test_metric_over_alarm_threshold_changes_state_and_the_event_reaches_the_detector(
    stack: StackInfo, aws: Any
) -> None:
    cloudwatch, logs = aws("cloudwatch"), aws("logs")
    alarm = stack.outputs["cloudwatch_error_rate_alarm_names"]["payments"]
    namespace = stack.outputs["cloudwatch_metrics_namespace"]

    def breach() -> bool:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {"MetricName": "ErrorRate", "Value": 60.0, "Dimensions": [{"Name": "Service", "Value": "payments"}]}
            ],
        )
        state = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
        return state == "ALARM"

    wait_for(breach, timeout=60, interval=0.25)
    found = wait_for(
        lambda: [m for m in log_messages(logs, "/aws/lambda/detector", '"alarm state change"') if alarm in m],
        timeout=30,
    )
    line = json.loads(found[0])
    assert line["alarm_name"] == alarm


def test_incident_message_starts_one_execution_and_a_poison_message_lands_in_the_dlq(
    stack: StackInfo, aws: Any
) -> None:
    sqs, sfn = aws("sqs"), aws("stepfunctions")
    queue = stack.outputs["sqs_incidents_queue_url"]
    dlq = stack.outputs["sqs_incidents_dlq_url"]
    machine = stack.outputs["sfn_state_machine_arn"]
    # One batch: a valid incident (delivered twice, as at-least-once delivery may) and a poison message.
    sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "good", "MessageBody": incident("e2e-incident-1")},
            {"Id": "again", "MessageBody": incident("e2e-incident-1")},
            {"Id": "poison", "MessageBody": '{"incident_id": "not a valid id!", "service": "x"}'},
        ],
    )
    executions = wait_for(
        lambda: [
            e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if e["name"] == "e2e-incident-1"
        ],
        timeout=30,
    )
    assert len(executions) == 1
    moved = wait_for(
        # Three receives a visibility timeout apart (20 s on this stack), then the redrive; slack for a loaded machine.
        lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1, AttributeNames=["All"]).get("Messages"),
        timeout=180,
    )
    assert "not a valid id!" in moved[0]["Body"]
    assert int(moved[0]["Attributes"]["ApproximateReceiveCount"]) >= 3
    # A healthy service: the remediation either verifies its action or escalates; never silence.
    final = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=executions[0]["executionArn"]))["status"] != "RUNNING" and d,
        timeout=90,
    )
    assert final["status"] == "SUCCEEDED" or final.get("error") == "Remediation.Escalated"


def test_second_plan_right_after_apply_reports_no_changes(stack: StackInfo, stack_options: StackOptions) -> None:
    assert terraform_runner(stack_options).plan_has_changes() is False
