"""The offline reasoner: a deterministic diagnosis and plan from metrics, signals and rules.

It is the default with no key, and the fallback whenever a provider fails or its answer is
rejected. Each fault kind the fleet simulates gets a score from the incident's numbers (metric
levels against fixed limits or their baseline, trends, signal names, the detector's kind);
log lines count for little, by keyword, and are never read as instructions. The best-scoring
kind maps to a ranked list of catalog actions; an action missing from the catalog, or whose
parameters cannot be filled from its schema's defaults, is left out. The detector's root is a fact: the
plan acts on it, and on another service only when the detector linked that service to the incident (after
the root's own actions). Every action it returns
passes the same validation as a model's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from healops.fleet.faults import FaultKind
from healops.llm.types import MAX_PLAN_ACTIONS, Diagnosis, IncidentContext, MetricSummary, ProposedAction, ReasonerPlan
from healops.llm.validation import check_action, root_first

# Levels (percent) above which a utilisation counts as saturated, and the error-rate alarm level.
SATURATED_PCT = 85.0
ERROR_RATE_PCT = 5.0
LATENCY_FACTOR = 2.0
LATENCY_FLOOR_MS = 500.0
# Traffic at this multiple of the rate a service was sized for, with the CPU at SURGE_CPU_PCT or more, is a
# surge about to saturate it even before the CPU reaches the band (the detector opens a traffic_surge there).
# With its P99 SURGE_LATENCY_FACTOR times its baseline or more, the surge is already slowing it down, however
# idle its CPU: each replica queues its share of the requests (a light service at 3.5x its plan answers 1.6x
# slower with its CPU at 60%), and its memory grows with the requests in flight.
SURGE_FACTOR = 2.0
SURGE_CPU_PCT = 65.0
SURGE_LATENCY_FACTOR = 1.25

# fault kind -> ranked actions (on the faulty service unless the rule says otherwise).
PLAYBOOK: dict[str, tuple[str, ...]] = {
    FaultKind.CPU_SATURATION: ("scale_out", "throttle_traffic"),
    FaultKind.CPU_SPIKE: ("scale_out", "no_op_observe"),
    # A leak ships with a version: roll it back when there is one to go back to; a restart buys time.
    FaultKind.MEMORY_LEAK: ("rollback_deploy", "restart_service", "raise_memory_limit"),
    FaultKind.DISK_EXHAUSTION: ("clear_disk",),
    FaultKind.SERVICE_CRASH: ("restart_service", "failover"),
    FaultKind.NETWORK_LATENCY: ("failover", "throttle_traffic"),
    # Errors a restart does not clear point past the process (a failing instance set, its storage or
    # network): fail over to the standby; shedding load is the last resort.
    FaultKind.ERROR_STORM: ("restart_service", "failover", "throttle_traffic"),
    FaultKind.BAD_DEPLOY: ("rollback_deploy", "restart_service"),
    # The cheap fix first; failover to the dependency's standby if a restart does not help.
    FaultKind.DEPENDENCY_FAILURE: ("restart_service", "failover", "throttle_traffic"),
}
# Words in the detector's incident kind that point at a fault kind.
KIND_HINTS: dict[str, tuple[str, ...]] = {
    FaultKind.CPU_SATURATION: ("cpu", "surge"),
    FaultKind.MEMORY_LEAK: ("memory", "oom"),
    FaultKind.DISK_EXHAUSTION: ("disk",),
    FaultKind.SERVICE_CRASH: ("heartbeat", "crash", "down"),
    FaultKind.NETWORK_LATENCY: ("latency",),
    FaultKind.ERROR_STORM: ("error",),
    FaultKind.BAD_DEPLOY: ("deploy",),
    FaultKind.DEPENDENCY_FAILURE: ("dependency",),
}
LOG_HINTS: dict[str, re.Pattern[str]] = {
    FaultKind.MEMORY_LEAK: re.compile(r"(?i)out ?of ?memory|\boom\b|memoryerror|heap"),
    FaultKind.DISK_EXHAUSTION: re.compile(r"(?i)no space left|disk (?:is )?full|enospc"),
    FaultKind.SERVICE_CRASH: re.compile(r"(?i)\bcrash|segfault|exited with|sigkill|killed"),
    FaultKind.NETWORK_LATENCY: re.compile(r"(?i)timed? ?out|slow response|latency"),
    FaultKind.ERROR_STORM: re.compile(r"(?i)\b5\d\d\b|exception|traceback"),
    FaultKind.BAD_DEPLOY: re.compile(r"(?i)deploy|release|version"),
    FaultKind.DEPENDENCY_FAILURE: re.compile(r"(?i)connection refused|upstream|dependency"),
}
# Signals are named by their metric (the detector's kind when it has none, e.g. burn_rate).
SIGNAL_HINTS: dict[str, tuple[str, ...]] = {
    "CPUUtilization": (FaultKind.CPU_SATURATION, FaultKind.CPU_SPIKE),
    "CPUPerRequest": (FaultKind.CPU_SATURATION, FaultKind.CPU_SPIKE),
    "RequestCount": (FaultKind.CPU_SATURATION,),
    "MemoryUtilization": (FaultKind.MEMORY_LEAK,),
    "DiskUtilization": (FaultKind.DISK_EXHAUSTION,),
    "Heartbeat": (FaultKind.SERVICE_CRASH,),
    "LatencyP99": (FaultKind.NETWORK_LATENCY,),
    "LatencyP50": (FaultKind.NETWORK_LATENCY,),
    "ErrorRate": (FaultKind.ERROR_STORM, FaultKind.BAD_DEPLOY),
}


@dataclass
class _Finding:
    score: float = 0.0
    evidence: list[str] = field(default_factory=list)
    target: str | None = None
    excess: float = 1.0  # how many times its limit the worst metric behind it is (1: at the limit, or none)

    def add(self, score: float, evidence: str, excess: float = 1.0) -> None:
        self.score += score
        self.evidence.append(evidence)
        self.excess = max(self.excess, excess)


def _metrics(context: IncidentContext, service: str) -> dict[str, MetricSummary]:
    return {m.metric: m for m in context.metrics if m.service == service}


def _saturation(findings: dict[str, _Finding], metrics: dict[str, MetricSummary], service: str) -> None:
    cpu = metrics.get("CPUUtilization")
    if cpu and cpu.max >= SATURATED_PCT:
        sustained = cpu.mean >= SATURATED_PCT * 0.9
        kind = FaultKind.CPU_SATURATION if sustained else FaultKind.CPU_SPIKE
        findings[kind].add(
            0.6, f"CPUUtilization on {service}: last {cpu.last:.0f}%, max {cpu.max:.0f}%", cpu.max / SATURATED_PCT
        )
    surge = _surge(metrics)
    if surge:
        latency = metrics.get("LatencyP99")
        if cpu and cpu.last >= SURGE_CPU_PCT:
            stress = f"CPU at {cpu.last:.0f}%"
        elif latency and latency.baseline and latency.last >= SURGE_LATENCY_FACTOR * latency.baseline:
            stress = f"LatencyP99 {latency.last:.0f} ms vs {latency.baseline:.0f} (each replica queues its share)"
        else:
            stress = ""
        if stress:
            # More than a spike's 0.6: a pegged CPU under that much traffic is the traffic's, not a passing spike.
            findings[FaultKind.CPU_SATURATION].add(
                0.7, f"RequestCount on {service}: {surge:.1f}x the planned rate, {stress}", surge / SURGE_FACTOR
            )
    memory = metrics.get("MemoryUtilization")
    if memory and (memory.last >= SATURATED_PCT or (memory.slope_per_min or 0) > 0.5):
        score = 0.6 if memory.last >= SATURATED_PCT else 0.35
        trend = f", rising {memory.slope_per_min:.1f}/min" if memory.slope_per_min else ""
        findings[FaultKind.MEMORY_LEAK].add(
            score, f"MemoryUtilization on {service}: {memory.last:.0f}%{trend}", memory.last / SATURATED_PCT
        )
    disk = metrics.get("DiskUtilization")
    if disk and (disk.last >= SATURATED_PCT or (disk.slope_per_min or 0) > 0.5):
        score = 0.7 if disk.last >= SATURATED_PCT else 0.4
        evidence = f"DiskUtilization on {service}: {disk.last:.0f}%"
        findings[FaultKind.DISK_EXHAUSTION].add(score, evidence, disk.last / SATURATED_PCT)


def _surge(metrics: dict[str, MetricSummary]) -> float:
    """The traffic's multiple of the rate the service was sized for, if it is SURGE_FACTOR or more (else 0)."""
    requests = metrics.get("RequestCount")
    if not requests or not requests.baseline:
        return 0.0
    multiple = requests.last / requests.baseline
    return multiple if multiple >= SURGE_FACTOR else 0.0


def _availability(findings: dict[str, _Finding], metrics: dict[str, MetricSummary], service: str) -> None:
    heartbeat = metrics.get("Heartbeat")
    if heartbeat and heartbeat.last < 0.5:
        findings[FaultKind.SERVICE_CRASH].add(0.8, f"Heartbeat on {service} stopped (last {heartbeat.last:g})")
    latency = metrics.get("LatencyP99")
    if latency:
        reference = latency.baseline if latency.baseline else LATENCY_FLOOR_MS / LATENCY_FACTOR
        if latency.last >= reference * LATENCY_FACTOR:
            findings[FaultKind.NETWORK_LATENCY].add(
                0.5,
                f"LatencyP99 on {service}: {latency.last:.0f} ms vs {reference:.0f}",
                latency.last / (reference * LATENCY_FACTOR),
            )
    errors = metrics.get("ErrorRate")
    if errors and errors.last >= ERROR_RATE_PCT:
        excess = errors.last / ERROR_RATE_PCT
        findings[FaultKind.ERROR_STORM].add(0.5, f"ErrorRate on {service}: {errors.last:.1f}%", excess)
        findings[FaultKind.BAD_DEPLOY].add(0.2, f"ErrorRate on {service}: {errors.last:.1f}%", excess)


# Symptoms the CPU explains count for at most this share of the saturation's own score.
EXPLAINED_SHARE = 0.9
# A CPU in the saturated band queues requests, which explains slow answers; errors (requests timing out in the
# queue) need a CPU at its ceiling. At 86% a service is slow, not failing: 80% errors there are another fault's.
PEGGED_PCT = 95.0


def _explained_by_cpu(findings: dict[str, _Finding], metrics: dict[str, MetricSummary], service: str) -> None:
    """A saturated CPU explains slow answers, and a CPU at its ceiling timeouts too (queueing): they count for
    half, and never for as much as the saturation itself (the latency, its signals and its timeout log lines all
    restate it)."""
    cpu = metrics.get("CPUUtilization")
    if cpu and cpu.last >= SATURATED_PCT:
        saturation = max(findings[FaultKind.CPU_SATURATION].score, findings[FaultKind.CPU_SPIKE].score)
        symptoms = (
            (FaultKind.NETWORK_LATENCY, FaultKind.ERROR_STORM)
            if cpu.last >= PEGGED_PCT
            else (FaultKind.NETWORK_LATENCY,)
        )
        for symptom in symptoms:
            if findings[symptom].score:
                findings[symptom].score = min(findings[symptom].score * 0.5, saturation * EXPLAINED_SHARE)
                findings[symptom].evidence.append(f"explained in part by CPU at {cpu.last:.0f}% on {service}")


def _explained_by_traffic(findings: dict[str, _Finding], metrics: dict[str, MetricSummary], service: str) -> None:
    """A surge the service is visibly struggling with explains slow answers and a memory that grows without
    reaching its limit (requests in flight): they count for half, and never for as much as the surge."""
    surge = _surge(metrics)
    saturation = findings[FaultKind.CPU_SATURATION].score
    if not surge or not saturation:
        return
    memory = metrics.get("MemoryUtilization")
    symptoms = [FaultKind.NETWORK_LATENCY] + ([FaultKind.MEMORY_LEAK] if memory and memory.last < SATURATED_PCT else [])
    for symptom in symptoms:
        if findings[symptom].score:
            findings[symptom].score = min(findings[symptom].score * 0.5, saturation * EXPLAINED_SHARE)
            findings[symptom].evidence.append(f"explained in part by traffic at {surge:.1f}x the plan on {service}")


# A deploy this many minutes before the incident is a suspect.
DEPLOY_WINDOW_MIN = 30.0


def _deploys(findings: dict[str, _Finding], context: IncidentContext) -> None:
    for deploy in context.deploys:
        if deploy.service == context.service and deploy.minutes_before <= DEPLOY_WINDOW_MIN:
            before = f" (from {deploy.previous_version})" if deploy.previous_version else ""
            findings[FaultKind.BAD_DEPLOY].add(
                0.8, f"{deploy.service} deployed {deploy.version}{before} {deploy.minutes_before:.0f} min before"
            )


# Faults a dependency's failure cannot cause in its callers: only errors and added latency travel up the call
# graph (the detector's LOCAL_FAMILIES, in the reasoner's words).
LOCAL_FAULTS = (
    FaultKind.CPU_SATURATION,
    FaultKind.CPU_SPIKE,
    FaultKind.MEMORY_LEAK,
    FaultKind.DISK_EXHAUSTION,
    FaultKind.SERVICE_CRASH,
)


def _dependencies(
    findings: dict[str, _Finding], context: IncidentContext, explain: bool = True, local: bool = False
) -> None:
    """A dependency the detector linked to this incident that is itself down or failing is the likelier root
    cause of the root's errors and latency (``explain``: and the root's own errors count for less). The detector's
    root is a fact: a dependency it did not link has its own incident, and a root with a fault of its own
    (``local``: saturation, memory, disk, a stopped heartbeat, which no dependency's fault causes) is not
    explained by one."""
    if local:
        return
    for dependency in context.graph.get(context.service, []):
        if dependency not in context.linked:
            continue
        dep = _metrics(context, dependency)
        down = dep.get("Heartbeat") is not None and dep["Heartbeat"].last < 0.5
        failing = dep.get("ErrorRate") is not None and dep["ErrorRate"].last >= ERROR_RATE_PCT
        signalled = any(s.service == dependency and s.score >= 1.0 for s in context.signals)
        if down or failing or signalled:
            finding = findings[FaultKind.DEPENDENCY_FAILURE]
            if explain:
                findings[FaultKind.ERROR_STORM].score *= 0.5
            finding.add(1.2, f"dependency {dependency} of {context.service} is {'down' if down else 'failing'}")
            finding.target = finding.target or dependency


# The detector's words, its signals and log keywords restate what the metrics show: together they add at most
# HINTS_CAP to a fault (log keywords at most LOG_HINTS_CAP of it), so piling them up cannot outvote a metric.
HINTS_CAP = 0.3
LOG_HINTS_CAP = 0.15


def _hints(findings: dict[str, _Finding], context: IncidentContext) -> None:
    hinted: dict[str, float] = {}

    def hint(fault: str, score: float, evidence: str) -> None:
        add = min(score, HINTS_CAP - hinted.get(fault, 0.0))
        if add > 0:
            hinted[fault] = hinted.get(fault, 0.0) + add
            findings[fault].add(add, evidence)

    kind = context.kind.lower()
    for fault, words in KIND_HINTS.items():
        if any(word in kind for word in words):
            hint(fault, 0.3, f"the detector reported {context.kind}")
    for signal in sorted(context.signals, key=lambda s: -s.score):
        if signal.service != context.service:
            continue
        for fault in SIGNAL_HINTS.get(signal.name, ()):
            hint(fault, 0.1 * max(signal.score, 0.0), f"signal {signal.name} scored {signal.score:.1f}")
    for fault, pattern in LOG_HINTS.items():
        hits = sum(1 for log in context.logs if log.service == context.service and pattern.search(log.line))
        if hits:
            hint(fault, min(LOG_HINTS_CAP, 0.05 * hits), f"{hits} log line(s) of {context.service} mention it")
    for past in context.history:
        if past.service == context.service and past.outcome == "resolved" and past.kind in findings:
            findings[past.kind].add(0.1, f"{past.action} resolved a {past.kind} on {past.service} before")


def _default_value(spec: dict[str, Any]) -> Any:
    if "default" in spec:
        return spec["default"]
    if spec.get("enum"):
        return spec["enum"][0]
    if spec.get("type") in ("integer", "number"):
        return spec.get("minimum", 1)
    if spec.get("type") == "boolean":
        return False
    raise LookupError("no default")


def fill_parameters(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema's defaults for every required parameter, or None when one cannot be chosen."""
    properties = schema.get("properties", {})
    filled: dict[str, Any] = {}
    for name in schema.get("required", []):
        try:
            filled[name] = _default_value(properties.get(name, {}))
        except LookupError:
            return None
    return filled


def _confidence(top: float, total: float) -> float:
    """Half from how strong the evidence is, half from how clearly it beats the other faults."""
    strength = min(top, 1.5) / 1.5
    separation = top / total if total else 0.0
    return round(min(0.95, max(0.2, 0.5 * strength + 0.5 * separation)), 2)


def _findings(context: IncidentContext, hints: bool = True, explain: bool = True) -> dict[str, _Finding]:
    """Each fault's score and evidence. ``hints``: the detector's words, its signals and log keywords count too.
    ``explain``: a pegged CPU, a surge and a failing dependency take evidence off the symptoms they explain;
    without it, each symptom keeps the evidence it has (an explanation is a hypothesis, which the first fix puts
    to test)."""
    findings = {fault: _Finding() for fault in PLAYBOOK}
    metrics = _metrics(context, context.service)
    _saturation(findings, metrics, context.service)
    _availability(findings, metrics, context.service)
    local = any(findings[fault].score for fault in LOCAL_FAULTS)  # from the root's own metrics alone
    _deploys(findings, context)
    # Hints before the explanations, so a pegged CPU or a failing dependency explains them away as it does
    # the metrics they restate.
    if hints:
        _hints(findings, context)
    if explain:
        _explained_by_cpu(findings, metrics, context.service)
        _explained_by_traffic(findings, metrics, context.service)
    _dependencies(findings, context, explain, local)
    return findings


# Among the runner-ups, evidence far past its limit counts for more: an error rate 16 times its 5% limit is a
# stronger lead than a CPU at 91%, 7% past the start of its band, though the CPU spike scores more (0.6 to 0.5)
# where the diagnosis is chosen. Each doubling past the limit adds this share of a runner-up's score.
SEVERITY_WEIGHT = 0.1


def _severity(finding: _Finding) -> float:
    return finding.score * (1.0 + SEVERITY_WEIGHT * math.log2(max(finding.excess, 1.0)))


# A runner-up fault needs at least the score that makes a diagnosis at all for its fixes to follow the top
# fault's; watching is not a fix, so a runner-up's watch step is left out.
FALLBACK_MIN = 0.3
WATCH_ONLY = frozenset({"no_op_observe"})
# On a reopened incident, what was tried before did not hold: it goes after every fix not tried yet (it still
# buys time when nothing else is left; the remediator's reopen limit hands a fault that keeps coming back to
# humans). A scale-out is sized to the traffic when it runs: a second one is a bigger one, not a repeat.
REPEATABLE = frozenset({"scale_out"})


def _spent(context: IncidentContext) -> set[tuple[str, str]]:
    """(action, service) tried on this incident before it reopened, but for the repeatable ones."""
    return {(p.action, p.service) for p in context.history if p.this_incident and p.action not in REPEATABLE}


class OfflineReasoner:
    name = "offline"
    model = "rules-v1"

    def plan(self, context: IncidentContext) -> ReasonerPlan:
        findings = _findings(context)
        # Highest score wins; ties go to the playbook's order (deterministic).
        order = list(PLAYBOOK)
        fault, finding = max(findings.items(), key=lambda item: (item[1].score, -order.index(item[0])))
        if finding.score < FALLBACK_MIN:
            return self._observe(context, findings)
        target = finding.target or context.service
        actions = self._actions(context, fault, target)
        # Runners-up from the metrics and deploys alone (the hints restate them and must not add a fix), none
        # explained away: if the diagnosis was wrong, so may be its explanation of the other symptoms.
        evidence = _findings(context, hints=False, explain=False)
        if fault == FaultKind.BAD_DEPLOY and actions and actions[0].action == "rollback_deploy":
            # A deploy is a suspect, not a symptom: once its rollback has been tried, the faults the metrics show
            # come before the rest of the deploy's playbook (a disk filling since a deploy is cleared second, not
            # restarted first and cleared at the attempt limit).
            rollback, rest = actions[:1], actions[1:]
            fallbacks = self._fallbacks(context, evidence, fault, rollback)
            seen = {(a.action, a.service) for a in fallbacks}
            actions, fallbacks = rollback + fallbacks, [a for a in rest if (a.action, a.service) not in seen]
        else:
            fallbacks = self._fallbacks(context, evidence, fault, actions)
        spent = _spent(context)
        fresh = [a for a in actions + fallbacks if (a.action, a.service) not in spent]
        spent_ones = [a for a in actions + fallbacks if (a.action, a.service) in spent]
        actions = root_first(context, fresh + spent_ones)[:MAX_PLAN_ACTIONS]
        affected = sorted({context.service, target})
        diagnosis = Diagnosis(
            root_cause=f"{fault.replace('_', ' ')} on {target}"
            + (f", affecting {context.service}" if target != context.service else ""),
            fault_kind=fault,
            affected_services=affected,
            confidence=_confidence(finding.score, sum(f.score for f in findings.values())),
            evidence=finding.evidence[:10],
        )
        return ReasonerPlan(diagnosis=diagnosis, actions=actions)

    def _actions(self, context: IncidentContext, fault: str, target: str) -> list[ProposedAction]:
        actions: list[ProposedAction] = []
        for name in PLAYBOOK[fault]:
            spec = context.action(name)
            if spec is None:
                continue
            parameters = fill_parameters(spec.parameters_schema)
            if parameters is None:
                continue
            # Throttling a dependency failure's caller protects it while the dependency heals.
            service = (
                context.service if (fault == FaultKind.DEPENDENCY_FAILURE and name == "throttle_traffic") else target
            )
            proposal = ProposedAction(
                action=name,
                service=service,
                parameters=parameters,
                rationale=f"playbook for {fault.replace('_', ' ')}: {spec.description[:200]}",
                blast_radius=spec.blast_radius,
            )
            if not check_action(context, proposal):
                actions.append(proposal)
        return actions

    def _fallbacks(
        self, context: IncidentContext, findings: dict[str, _Finding], top: str, planned: list[ProposedAction]
    ) -> list[ProposedAction]:
        """The next-likeliest faults' fixes, after the diagnosis's own: when those do not verify, the diagnosis
        was wrong (a benign deploy just before an error storm makes it look like a bad deploy), and the runner-up
        is what a human would try next. Only faults with FALLBACK_MIN of evidence in ``findings``, never a watch-only
        step, each (action, service) once; the remediator's attempt limit still bounds the whole list."""
        order = list(PLAYBOOK)
        seen = {(a.action, a.service) for a in planned}
        extra: list[ProposedAction] = []
        runners_up = sorted(
            (item for item in findings.items() if item[0] != top and item[1].score >= FALLBACK_MIN),
            key=lambda item: (-_severity(item[1]), order.index(item[0])),
        )
        for fault, finding in runners_up:
            for action in self._actions(context, fault, finding.target or context.service):
                if action.action in WATCH_ONLY or (action.action, action.service) in seen:
                    continue
                seen.add((action.action, action.service))
                rationale = f"if it is not {top.replace('_', ' ')}: {action.rationale}"
                extra.append(action.model_copy(update={"rationale": rationale}))
        return extra

    def _observe(self, context: IncidentContext, findings: dict[str, _Finding]) -> ReasonerPlan:
        evidence = [e for f in findings.values() for e in f.evidence][:10]
        actions = []
        spec = context.action("no_op_observe")
        parameters = fill_parameters(spec.parameters_schema) if spec else None
        if spec is not None and parameters is not None:
            actions.append(
                ProposedAction(
                    action="no_op_observe",
                    service=context.service,
                    parameters=parameters,
                    rationale="the evidence does not point at one fault; watch before acting",
                    blast_radius=spec.blast_radius,
                )
            )
        diagnosis = Diagnosis(
            root_cause=f"unclear: the signals on {context.service} match no known fault pattern",
            fault_kind="unknown",
            affected_services=[context.service],
            confidence=0.2,
            evidence=evidence,
        )
        return ReasonerPlan(diagnosis=diagnosis, actions=[a for a in actions if not check_action(context, a)])
