"""``healops bench chaos``: the scored chaos benchmark, through the deployed stack on the embedded cloud.

Brings up its own stack (Terraform applied to the embedded cloud, time scale 60: one 1-minute tick per real
second, a 48-service fleet: six copies of the 8-service graph) and runs scenarios in waves, one scenario per copy
of the graph in a wave; the first copy (the named services) is never faulted and is the control: its hours of
benign surges and routine deploys (the fleet's own, seeded) should open no incident and draw no action.
Faults go in through the injector Lambda, as ``healops inject`` does; Heal-Ops does the rest (detector,
incidents queue, remediator, Step Functions, verification). Actions that wait for a human are approved at
once, as the e2e tests do. Outcomes are read only from what Heal-Ops records (incidents, remediations,
llm_actions); ground truth only from the injector's records (``healops-injections``) and the fleet's telemetry
(``injector`` ``status``), which Heal-Ops never reads. Scoring: :mod:`healops.bench.chaos_scoring`.

Scenarios: every fault type on three services (dependency_failure, on a service with callers, is the
cascade, and the fault whose first candidate, a restart, does not fix it), two faults at once in one copy, and
faults in Heal-Ops' own parts: the LLM provider down, slow and answering garbage (a local stub
OpenAI-compatible server, :mod:`healops.bench.llm_stub`), a poison message on the incidents queue, the detector
crashing for some ticks, the remediator timing out mid-action (its fleet write made, the answer held past its
timeout: :mod:`healops.bench.hold_proxy`), the incidents queue delayed.
Seeded: the same ``--seed`` picks the same services.
Writes ``reports/chaos/<timestamp>/`` (report.json, report.md, timeline and distribution PNGs).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from healops import aws, config, paths
from healops.bench.chaos_scoring import (
    METRIC,
    PREDICTED_FAULTS,
    Aggregates,
    Category,
    Injected,
    Opened,
    ScenarioResult,
    ScenarioRun,
    Tried,
    aggregate,
    callers_closure,
    exhaustion_at,
    score_scenario,
)
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.bench.hold_proxy import HoldingProxy
from healops.bench.llm_stub import StubLLMServer, StubReply, StubRequest, planning_responder
from healops.deploy.errors import DeployError
from healops.deploy.stack import StackInfo, StackOptions, down, up
from healops.fleet.definition import dependency_graph
from healops.fleet.faults import FAULTS as FAULT_CATALOG
from healops.fleet.faults import FaultKind
from healops.local.server import free_port
from healops.store.incidents import IncidentsRepository
from healops.store.injections import InjectionsRepository
from healops.store.llm_actions import LlmActionsRepository
from healops.store.remediations import RemediationsRepository

console = bench_console()
TIME_SCALE = 60.0  # the default: one simulated 1-minute tick per real second
FLEET_SIZE = 48
BASE_SERVICES = ("edge", "checkout", "payments", "ledger-db", "inventory", "search", "auth", "notifications")
COPIES = FLEET_SIZE // len(BASE_SERVICES)
FAULTS = tuple(FAULT_CATALOG)  # every fault type the fleet simulates
# Services with callers: a dependency failure there cascades up the graph.
CASCADE_ROOTS = ("ledger-db", "inventory", "auth")
# Parameters that make each fault unmistakable at any hour (healops/bench/remediation.py says why).
PARAMS: dict[str, dict[str, Any]] = {
    FaultKind.CPU_SATURATION: {"load_multiplier": 6.0},
    FaultKind.CPU_SPIKE: {"extra_cpu_pct": 70.0},
    FaultKind.NETWORK_LATENCY: {"added_ms": 1500.0},
}
FAULT_DURATION_S = 86_400  # a simulated day: the faults that end by themselves outlast the wave
WAVE_TIMEOUT_S = 180.0
SETTLE_S = 8.0  # after a wave: late incidents (a caller's symptoms) still land in it, and faults' symptoms fade
DETECTOR_CRASH_S = 8.0  # ticks the detector crashes on every invocation, from the injection on
QUEUE_DELAY_S = 10  # seconds (ticks) every incident message waits on the queue
LLM_SLOW_S = 20.0  # beyond the plan step's deadline: the offline plan must step in
HOLD_PAST_TIMEOUT_S = 5.0  # the remediator's fleet write answered this long after the function's timeout
POISON = '{"incident_id": "not a valid id!", "service": "chaos-poison"}'
REQUESTED_BY = "bench-chaos"


@dataclass(frozen=True)
class Fault:
    service: str
    fault: str


@dataclass(frozen=True)
class Scenario:
    name: str
    category: Category
    faults: tuple[Fault, ...]
    # A fault in Heal-Ops' own parts that this scenario carries: llm_down, llm_slow, llm_garbage, poison_message,
    # remediator_timeout (local to it), or detector_crash, queue_delayed (the whole wave's: such a wave holds that
    # scenario alone).
    condition: str | None = None


LLM_CONDITIONS = frozenset({"llm_down", "llm_slow", "llm_garbage"})


def service_in(base: str, copy: int) -> str:
    return base if copy == 0 else f"{base}-{copy}"


def copy_of(service: str) -> int:
    tail = service.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() and service.rsplit("-", 1)[0] in BASE_SERVICES else 0


def plan_waves(seed: int, quick: bool, fault_copies: int = COPIES - 1) -> list[list[Scenario]]:
    """The scenarios, packed into waves of at most one per fault copy (copies 1..5). Seeded: the services each
    fault goes to are a seeded draw; the full set puts every fault on three distinct services."""
    rng = random.Random(seed)
    per_fault = 1 if quick else 3
    plain: list[Scenario] = []
    for fault in FAULTS:
        bases = CASCADE_ROOTS if fault == FaultKind.DEPENDENCY_FAILURE else BASE_SERVICES
        for base in rng.sample(bases, per_fault):
            category: Category = "cascade" if fault == FaultKind.DEPENDENCY_FAILURE else "fault"
            plain.append(Scenario(f"{fault}:{base}", category, (Fault(base, fault),)))
    pairs = [(("inventory", FaultKind.ERROR_STORM), ("notifications", FaultKind.DISK_EXHAUSTION))]
    if not quick:
        pairs.append((("auth", FaultKind.CPU_SATURATION), ("search", FaultKind.SERVICE_CRASH)))
    for a, b in pairs:
        plain.append(Scenario(f"concurrent:{a[1]}+{b[1]}", "concurrent", (Fault(*a), Fault(*b))))
    rng.shuffle(plain)
    llm = [
        Scenario(f"{c}:{base}", "self", (Fault(base, FaultKind.ERROR_STORM),), c)
        for c, base in zip(("llm_down", "llm_slow", "llm_garbage"), ("notifications", "auth", "inventory"), strict=True)
    ]
    llm.append(
        Scenario("poison_message:payments", "self", (Fault("payments", FaultKind.BAD_DEPLOY),), "poison_message")
    )
    llm.append(
        Scenario(
            "remediator_timeout:checkout", "self", (Fault("checkout", FaultKind.SERVICE_CRASH),), "remediator_timeout"
        )
    )
    alone = [
        [Scenario("detector_crash:search", "self", (Fault("search", FaultKind.ERROR_STORM),), "detector_crash")],
        [Scenario("queue_delayed:checkout", "self", (Fault("checkout", FaultKind.SERVICE_CRASH),), "queue_delayed")],
    ]

    def packed(scenarios: list[Scenario]) -> list[list[Scenario]]:
        return [scenarios[i : i + fault_copies] for i in range(0, len(scenarios), fault_copies)]

    # Heal-Ops' own faults first: the poison message then has the whole run to reach the dead-letter queue, at
    # the deployed visibility timeout (six times the remediator's).
    return [*packed(llm), *packed(plain), *alone]


def only(waves: list[list[Scenario]], names: set[str], fault_copies: int) -> list[list[Scenario]]:
    """The planned scenarios named in ``names`` (``fault:service``, ``condition:service``), packed again; an
    unknown name is an error that lists the accepted ones."""
    planned = [s for wave in waves for s in wave]
    unknown = names - {s.name for s in planned}
    if unknown:
        raise ValueError(
            f"unknown scenario(s): {', '.join(sorted(unknown))}; accepted: {', '.join(s.name for s in planned)}"
        )
    alone = {"detector_crash", "queue_delayed"}
    kept = [s for s in planned if s.name in names and s.condition not in alone]
    waves = [kept[i : i + fault_copies] for i in range(0, len(kept), fault_copies)]
    return waves + [[s] for s in planned if s.name in names and s.condition in alone]


@dataclass
class Live:
    """What the bench saw while a scenario ran (its own bookkeeping, not an outcome)."""

    scenario: Scenario
    copy: int
    started_at: float
    injection_ids: list[str] = field(default_factory=list)
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    approvals: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return [service_in(f.service, self.copy) for f in self.scenario.faults]


class ChaosRun:
    """Runs waves of scenarios on a deployed stack and collects what was recorded."""

    def __init__(self, info: StackInfo, fleet_size: int = FLEET_SIZE) -> None:
        def client(name: str) -> Any:
            return aws.client(name, endpoint_url=info.endpoint_url, region="us-east-1")

        self.info = info
        self.lam, self.sfn, self.ssm, self.sqs = client("lambda"), client("stepfunctions"), client("ssm"), client("sqs")
        ddb = client("dynamodb")
        tables = info.outputs["dynamodb_table_names"]
        self.incidents = IncidentsRepository(tables["incidents"], ddb)
        self.remediations = RemediationsRepository(tables["remediations"], ddb)
        self.llm_actions = LlmActionsRepository(tables["llm_actions"], ddb)
        self.injections = InjectionsRepository(tables["injections"], ddb)
        self.copies = fleet_size // len(BASE_SERVICES)
        self.tick_s = 60.0 / info.time_scale  # real seconds per simulated 1-minute tick
        self.graph = dependency_graph(fleet_size)
        self.since = datetime.now(UTC).isoformat()
        self.started = time.time()
        self.lives: list[Live] = []
        self.windows: list[tuple[Live, float]] = []
        self.poisoned: list[Live] = []
        self.redelivered = 0

    # -- the injector ------------------------------------------------------------------------------------

    def _invoke(self, function: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = self.lam.invoke(FunctionName=function, Payload=json.dumps(payload))
        body = json.loads(response["Payload"].read() or b"null")
        if "FunctionError" in response:
            raise RuntimeError(f"{function} {payload.get('action')}: {body}")
        return body

    def _fleet_metrics(self) -> dict[str, dict[str, float]]:
        status = self._invoke("injector", {"action": "status"})
        return {s["service"]: s["metrics"] for s in status.get("services", [])}

    # -- one wave ----------------------------------------------------------------------------------------

    def run_wave(self, scenarios: list[Scenario], copies: list[int], timeout: float = WAVE_TIMEOUT_S) -> None:
        lives = [Live(s, c, time.time()) for s, c in zip(scenarios, copies, strict=True)]
        conditions = {s.condition for s in scenarios}
        with self._wave_conditions(conditions, lives):
            for live in lives:
                self._start(live)
            if "detector_crash" in conditions:
                self._detector_crash(lives[0])
            deadline = time.monotonic() + timeout
            approved: set[tuple[str, str]] = set()
            while time.monotonic() < deadline:
                self._sample(lives)
                if self._settled(lives, approved):
                    break
                time.sleep(1.0)
            for live in lives:
                for service in live.services:
                    self._invoke("injector", {"action": "clear", "service": service, "requested_by": REQUESTED_BY})
            time.sleep(SETTLE_S)
        ended = time.time()
        for live in lives:
            self.lives.append(live)
            self.windows.append((live, ended))

    def _start(self, live: Live) -> None:
        if live.scenario.condition == "poison_message":
            live.notes["dlq_before"] = self._dlq_depth()
            self.sqs.send_message(QueueUrl=self.info.outputs["sqs_incidents_queue_url"], MessageBody=POISON)
        for fault, service in zip(live.scenario.faults, live.services, strict=True):
            payload: dict[str, Any] = {
                "action": "inject",
                "service": service,
                "fault": fault.fault,
                "params": PARAMS.get(fault.fault, {}),
                "requested_by": REQUESTED_BY,
            }
            if FAULT_CATALOG[fault.fault].default_duration_s is not None:
                # Long enough to outlast any wave: a fault that ends by itself (an error storm's default is 10
                # ticks) would look fixed by whatever ran last, and under load the remediation can take longer.
                payload["duration_s"] = FAULT_DURATION_S
            self._invoke("injector", {"action": "clear", "service": service, "requested_by": REQUESTED_BY})
            live.injection_ids.append(self._invoke("injector", payload)["injected"]["injection_id"])

    def _sample(self, lives: list[Live]) -> None:
        metrics = self._fleet_metrics()
        now = time.time()
        for live in lives:
            for fault, service in zip(live.scenario.faults, live.services, strict=True):
                value = metrics.get(service, {}).get(METRIC[fault.fault])
                if value is not None:
                    live.samples.setdefault(service, []).append((now, float(value)))

    def _settled(self, lives: list[Live], approved: set[tuple[str, str]]) -> bool:
        """Every injection ended (fixed, or expired) and every incident on the scenarios' services is out of
        remediation; actions waiting for a human are approved on the way, as a human would."""
        settled = True
        for live in lives:
            for injection_id in live.injection_ids:
                record = self.injections.get(injection_id)
                settled &= record is not None and record.status != "active"
            for service in live.services:
                for item in self.incidents.by_service(service, since=self.since).items:
                    if item["status"] in ("open", "remediating"):
                        settled = False
                    for attempt in self.remediations.for_incident(item["incident_id"]).items:
                        key = (item["incident_id"], attempt["attempt_id"])
                        waiting = attempt.get("outcome") == "awaiting_approval" and attempt.get("task_token")
                        if waiting and key not in approved:
                            self.sfn.send_task_success(
                                taskToken=attempt["task_token"], output=json.dumps({"approved_by": REQUESTED_BY})
                            )
                            approved.add(key)
                            live.approvals += 1
        return settled

    def _dlq_depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.info.outputs["sqs_incidents_dlq_url"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    # -- faults in Heal-Ops' own parts --------------------------------------------------------------------

    @contextmanager
    def _wave_conditions(self, conditions: set[str | None], lives: list[Live]) -> Iterator[None]:
        with (
            self._llm_stub(lives) if conditions & LLM_CONDITIONS else _nothing(),
            self._remediator_held(lives) if "remediator_timeout" in conditions else _nothing(),
        ):
            if "queue_delayed" in conditions:
                queue = self.info.outputs["sqs_incidents_queue_url"]
                self.sqs.set_queue_attributes(QueueUrl=queue, Attributes={"DelaySeconds": str(QUEUE_DELAY_S)})
                try:
                    yield
                finally:
                    self.sqs.set_queue_attributes(QueueUrl=queue, Attributes={"DelaySeconds": "0"})
            else:
                yield
        for live in lives:
            if live.scenario.condition == "poison_message":
                live.notes["poison_sent_at"] = live.started_at
                self.poisoned.append(live)

    def _detector_crash(self, live: Live) -> None:
        """The detector's incidents table unset for DETECTOR_CRASH_S: every invocation then fails (fresh
        workers read the broken configuration); one direct invocation shows it, then the configuration is
        restored."""
        original = self.lam.get_function_configuration(FunctionName="detector")["Environment"]["Variables"]
        broken = {**original, config.ENV_NAMES["incidents_table"]: ""}
        self._configure("detector", broken)
        tick_event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [],
            "detail": {},
        }
        response = self.lam.invoke(FunctionName="detector", Payload=json.dumps(tick_event))
        body = json.loads(response["Payload"].read() or b"null")
        live.notes["detector_invocation_crashed"] = "FunctionError" in response
        live.notes["detector_crash_error"] = str((body or {}).get("errorMessage", ""))[:200]
        time.sleep(max(0.0, live.started_at + DETECTOR_CRASH_S - time.time()))
        self._configure("detector", original)
        live.notes["detector_crashed_s"] = round(time.time() - live.started_at, 1)

    @contextmanager
    def _remediator_held(self, lives: list[Live]) -> Iterator[None]:
        """The remediator's DynamoDB calls through :class:`HoldingProxy`: the first fleet write of each
        ``remediator_timeout`` scenario's service reaches the table and its answer comes back only after the
        function's timeout. Afterwards: the held writes, and the timed-out invocations the runtime logged."""
        held = {live.copy: set(live.services) for live in lives if live.scenario.condition == "remediator_timeout"}
        function = self.lam.get_function_configuration(FunctionName="remediator")
        original = function["Environment"]["Variables"]
        fleet_table = self.info.outputs["dynamodb_table_names"]["fleet"]
        services = set().union(*held.values())
        since_ms = int(time.time() * 1000)
        with HoldingProxy(
            self.info.endpoint_url, fleet_table, services, function["Timeout"] + HOLD_PAST_TIMEOUT_S
        ) as proxy:
            self._configure("remediator", {**original, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url})
            try:
                yield
            finally:
                self._configure("remediator", original)
                timeouts = self._log_count("/aws/lambda/remediator", '"Task timed out"', since_ms)
                for live in lives:
                    if live.copy in held:
                        live.notes["held_writes"] = [asdict(h) for h in proxy.held if h.service in held[live.copy]]
                        live.notes["remediator_timeouts"] = timeouts

    def _log_count(self, group: str, pattern: str, since_ms: int) -> int:
        logs = aws.client("logs", endpoint_url=self.info.endpoint_url, region="us-east-1")
        count, kwargs = 0, {"logGroupName": group, "filterPattern": pattern, "startTime": since_ms}
        while True:
            page = logs.filter_log_events(**kwargs)
            count += len(page.get("events", []))
            if not page.get("nextToken"):
                return count
            kwargs["nextToken"] = page["nextToken"]

    def finish(self) -> None:
        """After the last wave: the poison messages' fate (the dead-letter queue after the queue's receives, at
        its visibility timeout each), and how often a valid incident message was processed again."""
        if self.poisoned:
            queue = self.info.outputs["sqs_incidents_queue_url"]
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=queue, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
            )["Attributes"]
            receives = int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
            sent = max(live.started_at for live in self.poisoned)
            deadline = sent + (receives + 1) * int(attributes["VisibilityTimeout"])
            expected = min(live.notes["dlq_before"] for live in self.poisoned) + len(self.poisoned)
            while self._dlq_depth() < expected and time.time() < deadline:
                time.sleep(2.0)
            for live in self.poisoned:
                live.notes["dlq_after"] = self._dlq_depth()
                live.notes["poison_in_dlq"] = live.notes["dlq_after"] > live.notes["dlq_before"]
        # A redelivered incident message finds its execution started ("execution already exists").
        self.redelivered = self._log_count(
            "/aws/lambda/remediator", '"execution already exists"', int(self.started * 1000)
        )

    def _configure(self, function: str, variables: dict[str, str]) -> None:
        """New environment variables for ``function``: the next invocations run in fresh workers."""
        self.lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.lam.get_function_configuration(FunctionName=function).get("LastUpdateStatus") in (
                None,
                "Successful",
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{function}: its configuration update did not finish in 30 s")

    @contextmanager
    def _llm_stub(self, lives: list[Live]) -> Iterator[None]:
        """The planner function planning with an OpenAI-compatible stub: down (503), slow (past the plan step's
        deadline) or garbage (no JSON) for the incidents of the copy that carries that condition, a well-behaved
        model for the others; the offline provider again afterwards."""
        modes = {live.copy: live.scenario.condition for live in lives if live.scenario.condition in LLM_CONDITIONS}

        def respond(request: StubRequest) -> StubReply:
            mode = modes.get(copy_of(str(request.document.get("incident", {}).get("service", ""))))
            if mode == "llm_down":
                return StubReply(status=503)
            if mode == "llm_slow":
                return StubReply(text=planning_responder(request).text, delay_s=LLM_SLOW_S)
            if mode == "llm_garbage":
                return StubReply(text="Restart everything, twice. {not json at all")
            return planning_responder(request)

        original = self.lam.get_function_configuration(FunctionName="planner")["Environment"]["Variables"]
        path = original[config.ENV_NAMES["llm_parameters_path"]]
        before = {p["Name"]: p for p in self.ssm.get_parameters_by_path(Path=path, WithDecryption=True)["Parameters"]}
        with StubLLMServer(respond) as server:
            settings = {"provider": "openai", "model": "chaos-stub", "openai_base_url": f"{server.url}/v1"}
            for name, value in settings.items():
                self.ssm.put_parameter(Name=f"{path}/{name}", Value=value, Type="String", Overwrite=True)
            self.ssm.put_parameter(
                Name=f"{path}/openai_api_key", Value="chaos-stub-key", Type="SecureString", Overwrite=True
            )
            self._configure("planner", {**original, "HEALOPS_CHAOS_LLM": uuid.uuid4().hex[:8]})
            try:
                yield
            finally:
                for name in (*settings, "openai_api_key"):
                    kept = before.get(f"{path}/{name}")
                    if kept:
                        self.ssm.put_parameter(
                            Name=kept["Name"], Value=kept["Value"], Type=kept["Type"], Overwrite=True
                        )
                    else:
                        self.ssm.delete_parameter(Name=f"{path}/{name}")
                self._configure("planner", original)
                for live in lives:
                    live.notes["stub_requests"] = sum(
                        1 for r in server.requests if copy_of(str(r.document["incident"]["service"])) == live.copy
                    )

    # -- collecting and scoring ---------------------------------------------------------------------------

    def collect(self) -> tuple[list[ScenarioRun], list[Opened], list[Tried], dict[str, tuple[int, int]]]:
        runs = []
        for live, ended in self.windows:
            injections = []
            for injection_id, service, fault in zip(
                live.injection_ids, live.services, live.scenario.faults, strict=True
            ):
                record = self.injections.get(injection_id)
                if record is None:
                    continue
                injected_at = _epoch(record.injected_at)
                injections.append(
                    Injected(
                        injection_id=injection_id,
                        service=service,
                        fault=fault.fault,
                        injected_at=injected_at,
                        fixed_by=tuple(record.ground_truth.fixed_by),
                        status=record.status,
                        ended_at=_epoch(record.ended_at) if record.ended_at else None,
                        ended_by=record.ended_by,
                        exhaustion_at=self._exhaustion(live, service, fault.fault, record.ended_at),
                    )
                )
            scope = callers_closure(live.services, self.graph)
            runs.append(
                ScenarioRun(
                    live.scenario.name,
                    live.scenario.category,
                    live.started_at,
                    ended,
                    tuple(injections),
                    scope,
                    live.scenario.condition,
                )
            )
        # The control: the first copy, for the whole run.
        control = frozenset(service_in(b, 0) for b in BASE_SERVICES)
        runs.append(ScenarioRun("control:copy-0", "control", self.started, time.time(), (), control))
        incidents: list[Opened] = []
        attempts: list[Tried] = []
        calls: dict[str, tuple[int, int]] = {}
        for service in self.graph:
            for item in self.incidents.by_service(service, since=self.since).items:
                incidents.append(
                    Opened(
                        incident_id=item["incident_id"],
                        service=item["service"],
                        kind=item["kind"],
                        opened_at=_epoch(item["opened_at"]),
                        status=item["status"],
                        linked_services=tuple(item.get("linked_services") or ()),
                        predicted=bool(item.get("predicted")),
                        resolved_at=_epoch(item["resolved_at"]) if item.get("resolved_at") else None,
                    )
                )
                for a in self.remediations.for_incident(item["incident_id"]).items:
                    attempts.append(
                        Tried(
                            incident_id=a["incident_id"],
                            service=a["service"],
                            action=a["action"],
                            started_at=_epoch(a["started_at"]),
                            ended_at=_epoch(a["ended_at"]) if a.get("ended_at") else None,
                            verification=a.get("verification", "pending"),
                            outcome=a.get("outcome", ""),
                            detail=str(a.get("verification_detail") or ""),
                        )
                    )
                records = self.llm_actions.all_for_incident(item["incident_id"])
                calls[item["incident_id"]] = (len(records), sum(1 for r in records if r.fallback_taken))
        return runs, incidents, attempts, calls

    def _exhaustion(self, live: Live, service: str, fault: str, ended_iso: str | None) -> float | None:
        if fault not in PREDICTED_FAULTS:
            return None
        # Samples before anything acted: up to the first action on the service, or the fault's end.
        stop = _epoch(ended_iso) if ended_iso else float("inf")
        for item in self.incidents.by_service(service, since=self.since).items:
            for a in self.remediations.for_incident(item["incident_id"]).items:
                stop = min(stop, _epoch(a["started_at"]))
        return exhaustion_at([s for s in live.samples.get(service, []) if s[0] <= stop])


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def run_plan(
    info: StackInfo, waves: list[list[Scenario]], timeout: float = WAVE_TIMEOUT_S, fleet_size: int = FLEET_SIZE
) -> ChaosRun:
    """Every wave in order on ``info``'s stack; a wave's scenarios go to fault copies 1, 2, ... in turn."""
    chaos = ChaosRun(info, fleet_size)
    with console.status("") as status:
        for k, wave in enumerate(waves, 1):
            status.update(f"wave {k} of {len(waves)}: {', '.join(s.name for s in wave)}")
            chaos.run_wave(wave, [1 + (i % (chaos.copies - 1)) for i in range(len(wave))], timeout)
        status.update("the poison messages' receives, the remediator's log")
        chaos.finish()
    return chaos


def score(chaos: ChaosRun) -> tuple[list[ScenarioResult], Aggregates, list[ScenarioRun], list[Opened], list[Tried]]:
    runs, incidents, attempts, calls = chaos.collect()
    results = [score_scenario(run, incidents, attempts, calls, chaos.tick_s) for run in runs]
    control_hours = len(BASE_SERVICES) * (time.time() - chaos.started) / chaos.tick_s / 60.0
    return results, aggregate(results, incidents, runs, control_hours), runs, incidents, attempts


GOALS: dict[str, tuple[str, str]] = {
    # figure -> (the goal in words, the comparison as "op value")
    "detection_recall": ("100%", ">= 1.0"),
    "control_incidents": ("no incident in control periods", "<= 0"),
    "localization_accuracy": (">= 95%", ">= 0.95"),
    "mitigation_success_rate": (">= 95%", ">= 0.95"),
    "mttd_step_ticks_max": ("<= 2 ticks for step faults", "<= 2"),
    "prediction_lead_ticks_min": (">= 10 ticks before exhaustion", ">= 10"),
    "false_remediations": ("zero", "<= 0"),
}


def meets(value: float | None, rule: str) -> bool | None:
    if value is None:
        return None
    op, bound = rule.split()
    return value >= float(bound) if op == ">=" else value <= float(bound)


def commit() -> str:
    proc = subprocess.run(
        ["git", "-C", str(paths.PROJECT_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return proc.stdout.strip() or "unknown"


def write_report(
    out: Path,
    meta: dict[str, Any],
    results: list[ScenarioResult],
    agg: Aggregates,
    chaos: ChaosRun,
    attempts: list[Tried],
    incidents: list[Opened],
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    notes = {live.scenario.name: {**live.notes, "approvals": live.approvals} for live in chaos.lives}
    goals = {
        name: {"goal": words, "value": getattr(agg, name), "met": meets(getattr(agg, name), rule)}
        for name, (words, rule) in GOALS.items()
    }
    report = {
        **meta,
        **{k: v for k, v in asdict(agg).items()},
        "goals": goals,
        "scenarios": [{**asdict(r), "notes": notes.get(r.name, {})} for r in results],
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(_markdown(meta, results, agg, goals))
    from healops.bench.chaos_plots import plot_distributions, plot_timeline, plot_ttr_per_fault

    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    by_name = {r.name: r for r in results}
    for live in chaos.lives:
        plot_timeline(
            plots, live.scenario.name, live.samples, by_name[live.scenario.name], incidents, attempts, chaos.tick_s
        )
    plot_distributions(plots / "mttd_mttr.png", agg.mttd_ticks, agg.mttr_ticks)
    plot_ttr_per_fault(plots / "per_fault.png", report["scenarios"])
    return report


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


SCENARIO_COLUMNS = (
    ("scenario", "name"),
    ("category", "category"),
    ("detected", "detected"),
    ("TTD (ticks)", "ttd_ticks"),
    ("lead (ticks)", "prediction_lead_ticks"),
    ("root right", "root_right"),
    ("fixed + verified", "fixed_verified"),
    ("TTR (ticks)", "ttr_ticks"),
    ("LLM calls", "llm_calls"),
)


def _set_name(meta: dict[str, Any]) -> str:
    chosen = f" (only {meta['only']})" if meta.get("only") else ""
    return f"{'quick' if meta['quick'] else 'full'} set{chosen}"


def _markdown(meta: dict[str, Any], results: list[ScenarioResult], agg: Aggregates, goals: dict[str, Any]) -> str:
    lines = [
        f"# Chaos benchmark, {meta['started_at']}",
        "",
        f"Commit {meta['commit']}, seed {meta['seed']}, {_set_name(meta)}, "
        f"{len(results)} scenarios, {meta['fleet_size']} services, time scale {meta['time_scale']:g} "
        f"(1 tick = 60 simulated s = {60 / meta['time_scale']:g} real s), {meta['duration_s']:.0f} s.",
        "",
        "| figure | value | goal | met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {_fmt(g['value'])} | {g['goal']} | {_fmt(g['met'])} |" for name, g in goals.items()]
    lines += [
        f"| detection_precision | {_fmt(agg.detection_precision)} | | |",
        f"| mttd_ticks_p50 / p90 | {_fmt(agg.mttd_ticks_p50)} / {_fmt(agg.mttd_ticks_p90)} | | |",
        f"| mttr_ticks_p50 / p90 | {_fmt(agg.mttr_ticks_p50)} / {_fmt(agg.mttr_ticks_p90)} | | |",
        f"| false remediations per control hour | {_fmt(agg.false_remediations_per_control_hour)} "
        f"({_fmt(agg.control_hours)} service-hours) | 0 | |",
        f"| incident messages handled again (the execution already existed) | "
        f"{meta.get('incident_messages_redelivered', '-')} | | |",
        "",
        "| " + " | ".join(c for c, _ in SCENARIO_COLUMNS) + " | actions tried | on healthy services |",
        "|" + "---|" * (len(SCENARIO_COLUMNS) + 2),
    ]
    for r in results:
        cells = [_fmt(getattr(r, key)) for _, key in SCENARIO_COLUMNS]
        cells += [", ".join(r.actions_tried) or "-", ", ".join(r.actions_on_healthy) or "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def headline(agg: Aggregates, goals: dict[str, Any]) -> Table:
    table = Table(title="chaos benchmark: headline figures against the issue's goals")
    for column in ("figure", "value", "goal", "met"):
        table.add_column(column)
    for name, g in goals.items():
        table.add_row(name, _fmt(g["value"]), g["goal"], _fmt(g["met"]))
    table.add_row("detection_precision", _fmt(agg.detection_precision), "", "")
    table.add_row("mttd_ticks p50 / p90", f"{_fmt(agg.mttd_ticks_p50)} / {_fmt(agg.mttd_ticks_p90)}", "", "")
    table.add_row("mttr_ticks p50 / p90", f"{_fmt(agg.mttr_ticks_p50)} / {_fmt(agg.mttr_ticks_p90)}", "", "")
    return table


def up_with_retry(options: StackOptions, attempts: int = 3) -> StackInfo:
    """``up``, again from nothing when it fails: on a loaded machine a function's first start can pass the
    runtime's 10 s init limit during the apply (the fleet seed's invocation), which is no fault of the stack."""
    for attempt in range(1, attempts + 1):
        try:
            return up(options)
        except DeployError as exc:
            if attempt == attempts:
                raise
            console.print(f"healops up failed (attempt {attempt} of {attempts}), retrying: {str(exc)[-300:]}")
            down(options.state_dir)
    raise AssertionError("unreachable")


def _fleet_size(text: str) -> int:
    value = int(text)
    if value < 2 * len(BASE_SERVICES) or value % len(BASE_SERVICES):
        raise argparse.ArgumentTypeError(
            f"{value}: accepted are multiples of 8 from 16 (a control copy and fault copies)"
        )
    return value


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("chaos", __doc__, own_json=True)
    parser.add_argument("--quick", action="store_true", help="one service per fault type (under 10 minutes)")
    parser.add_argument("--seed", type=int, default=1, help="the fleet's seed and the scenarios' draw (default 1)")
    parser.add_argument("--out", type=Path, default=paths.PROJECT_ROOT / "reports" / "chaos", help="report folder")
    parser.add_argument("--json", action="store_true", help="print report.json instead of the tables")
    parser.add_argument("--fleet-size", type=_fleet_size, default=FLEET_SIZE, help="services (default 48)")
    parser.add_argument(
        "--time-scale", type=float, default=TIME_SCALE, help="the cloud's time scale (default 60: a tick a second)"
    )
    parser.add_argument("--wave-timeout", type=float, default=WAVE_TIMEOUT_S, help="real seconds a wave may take")
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=None,
        help="the incidents queue's visibility timeout in seconds (default: the deployed one, 6 x the remediator's)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated scenario names of the planned set (e.g. cpu_spike:search)"
    )
    args = parser.parse_args(argv)
    fault_copies = args.fleet_size // len(BASE_SERVICES) - 1
    waves = plan_waves(args.seed, args.quick, fault_copies)
    if args.only:
        try:
            waves = only(waves, {n.strip() for n in args.only.split(",") if n.strip()}, fault_copies)
        except ValueError as exc:
            parser.error(str(exc))
    started_at = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    measured_commit = commit()  # the code the stack's zips are built from, now
    begun = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="healops-bench-chaos-") as tmp:
        options = StackOptions(
            port=free_port("127.0.0.1"),
            state_dir=Path(tmp),
            time_scale=args.time_scale,
            variables={
                "chaos_enabled": False,
                "fleet_size": args.fleet_size,
                "fleet_seed": args.seed,
                "remediation_policy": {"max_concurrent": 20},
                # The queue's visibility timeout is the deployed one (six times the remediator's timeout) unless
                # given: at 3 s, below the remediator's, a message still being handled came back and was handled
                # again.
                **({"incidents_visibility_timeout_s": args.visibility_timeout} if args.visibility_timeout else {}),
            },
            dashboard_port=None,
        )
        try:
            with console.status(f"healops up (time scale {args.time_scale:g}, {args.fleet_size} services)"):
                info = up_with_retry(options)
            chaos = run_plan(info, waves, args.wave_timeout, args.fleet_size)
            results, agg, _, incidents, attempts = score(chaos)
        finally:
            down(options.state_dir)
    meta = {
        "started_at": started_at,
        "commit": measured_commit,
        "seed": args.seed,
        "quick": args.quick,
        "time_scale": args.time_scale,
        "fleet_size": args.fleet_size,
        "duration_s": round(time.monotonic() - begun, 1),
        "only": args.only or None,
        "incident_messages_redelivered": chaos.redelivered,
    }
    out = args.out / started_at
    report = write_report(out, meta, results, agg, chaos, attempts, incidents)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    table = Table(title=f"chaos scenarios ({len(results)}, seed {args.seed}, commit {meta['commit']})")
    for column, _ in SCENARIO_COLUMNS:
        table.add_column(column)
    table.add_column("actions tried")
    for r in results:
        table.add_row(*[_fmt(getattr(r, key)) for _, key in SCENARIO_COLUMNS], ", ".join(r.actions_tried))
    console.print(table)
    console.print(headline(agg, report["goals"]))
    console.print(f"report: {out}/report.json, report.md, plots/ ({meta['duration_s']:.0f} s)")
    return 0
