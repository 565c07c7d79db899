"""The remediation engine on AWS clients, from a function's environment (healops.config).

Two functions run it, with two roles (docs/security.md). ``build_planner`` is the planner function's: the LLM
reasoner (healops.llm) with its audit trail in DynamoDB; it reuses the plan recorded for an incident episode when
the plan step runs again, and stops waiting for a model at the step's deadline. It sees the service's log lines
(FilterLogEvents on the service's log group) and the fleet's dependency graph (the fleet definition expanded to
HEALOPS_FLEET_SIZE, as the detector's). Its role reads, and writes only the audit (llm_actions, agent_decisions).
``build`` is the remediator's, which guards, acts, verifies and escalates and never calls a model: its planner
refuses (its role cannot read the LLM settings or keys).
"""

from __future__ import annotations

from typing import Any

import boto3

from healops.config import Settings
from healops.fleet.adapter import FleetAdapter
from healops.fleet.definition import dependency_graph
from healops.fleet.simulated import SimulatedFleet
from healops.llm import DynamoAuditTrail, IncidentContext, PlanOutcome, plan_incident
from healops.notify.announce import announcer_for
from healops.remediation.engine import Planner, Remediation
from healops.remediation.evidence import ServiceLogs
from healops.remediation.policy import RemediationLimits, load_limits
from healops.remediation.telemetry import CloudWatchReader
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.fleet import FleetRepository
from healops.store.incidents import IncidentsRepository
from healops.store.injections import InjectionsRepository
from healops.store.remediations import RemediationsRepository
from healops.store.slots import RemediationSlots
from healops.targets.fleet import TargetFleet, load_targets


class PlanningRefusedError(RuntimeError):
    """The remediator was asked to plan: the planner function plans (the remediator's role holds no LLM access)."""


def _refuse_to_plan(context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
    raise PlanningRefusedError(
        f"the remediator does not plan (incident {context.incident_id}): the state machine's Plan state invokes "
        "the planner function"
    )


def build_planner(settings: Settings, session: Any | None = None) -> Remediation:
    """The engine as the planner function runs it: plan only, with the model."""
    dynamodb = (session or boto3).client("dynamodb")
    audit = DynamoAuditTrail.from_config(settings, dynamodb)

    def planner(context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
        return plan_incident(context, audit=audit, deadline=deadline, reuse_recorded=True)

    # The planner's role reads no target (terraform/iam.tf): it plans from the fleet model's view.
    return build(settings, session, planner=planner, targets=False)


def build(
    settings: Settings, session: Any | None = None, *, planner: Planner = _refuse_to_plan, targets: bool = True
) -> Remediation:
    """The engine as the remediator runs it (``planner`` refuses unless given: see ``build_planner``); with
    ``targets``, the configured real targets (read once, at a cold start) are acted on through their own APIs."""
    client = (session or boto3).client
    dynamodb, ssm = client("dynamodb"), client("ssm")
    clock = settings.clock()

    def limits() -> RemediationLimits:
        return load_limits(ssm, settings.remediation_policy_parameter)

    incidents = IncidentsRepository(settings.require("incidents_table"), dynamodb)

    def incident_status(incident_id: str) -> str | None:
        record = incidents.get(incident_id)
        return record.status if record else None

    # The injections table is only written (a fault the action ended is marked fixed), never read.
    simulated = SimulatedFleet(
        FleetRepository(settings.require("fleet_table"), dynamodb),
        InjectionsRepository(settings.require("injections_table"), dynamodb),
        clock,
    )
    # Configured targets are acted on through their own APIs; every other service stays simulated.
    configured = load_targets(ssm, settings.targets_parameter) if targets else {}
    fleet: FleetAdapter = (
        TargetFleet(simulated, configured, client("ecs"), client("application-autoscaling"), client("lambda"))
        if configured
        else simulated
    )
    return Remediation(
        fleet=fleet,
        remediations=RemediationsRepository(settings.require("remediations_table"), dynamodb),
        decisions=AgentDecisionsRepository(settings.require("agent_decisions_table"), dynamodb),
        incidents=incidents,
        metrics=CloudWatchReader(
            client("cloudwatch"), settings.metrics_namespace, clock.tick_seconds / clock.time_scale
        ),
        planner=planner,
        limits=limits,
        slots=RemediationSlots(
            settings.require("remediations_table"),
            dynamodb,
            incident_status,
            settings.remediation_execution_timeout_s,
        ),
        clock=clock,
        logs=ServiceLogs(client("logs"), settings.service_log_group_prefix),
        graph=dependency_graph(settings.fleet_size),
        announce=announcer_for(settings.notifier_function, lambda: client("lambda")),
    )
