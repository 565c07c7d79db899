"""The dashboard's read model: every page's data from key queries, GSIs and CloudWatch reads.

Pages and the JSON API both call these functions; each returns plain data (dicts, dataclasses)
that templates render and the API serialises. Nothing here scans a table.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from healops.dashboard.resources import StackResources
from healops.dashboard.summaries import (
    OPEN_STATUSES,
    ServiceHealth,
    WindowSummary,
    failed_attempts_by_service,
    parse_time,
    service_health,
    summarise_window,
)
from healops.dashboard.timeline import Stream, merged_page
from healops.models.incident import INCIDENT_ID_PATTERN, SERVICE_NAME_PATTERN
from healops.redaction import redact
from healops.remediation.guard import GuardPolicy
from healops.remediation.policy import InvalidLimitsError, approval_table, parse_limits
from healops.store.base import collect_pages
from healops.store.notifications import DeliveryRecord

STATUSES = ("open", "remediating", "resolved", "escalated")
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 30)
MAX_METRIC_MINUTES = 24 * 60  # the longest metrics window the API serves, in minutes of the fleet's time
EVIDENCE_METRICS = ("ErrorRate", "LatencyP99", "CPUUtilization", "MemoryUtilization", "DiskUtilization")
WINDOW_HOURS = 24
# Reading a window's incidents stops here; the overview says so when it does.
MAX_WINDOW_INCIDENTS = 5000
MAX_PAGE = 200


class BadRequestError(ValueError):
    """A query parameter out of its accepted range; the message names it and what is accepted."""


def now_utc() -> datetime:
    return datetime.now(tz=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def check_service(service: str) -> str:
    if not re.fullmatch(SERVICE_NAME_PATTERN, service or ""):
        raise BadRequestError(f"service {service!r} is not a service name (lower-case letters, digits and '-')")
    return service


def check_incident_id(incident_id: str) -> str:
    if not re.fullmatch(INCIDENT_ID_PATTERN, incident_id or ""):
        raise BadRequestError(f"incident id {incident_id!r} is not valid (1-80 letters, digits, '-' or '_')")
    return incident_id


def check_time(name: str, value: str | None) -> str | None:
    if not value:
        return None
    parsed = parse_time(value) or parse_time(value + "+00:00")
    if parsed is None:
        raise BadRequestError(f"{name}={value!r} is not an ISO-8601 time (e.g. 2026-01-31T12:00:00Z)")
    return iso(parsed)


def check_int(name: str, value: Any, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequestError(f"{name}={value!r} is not a whole number ({low} to {high})") from None
    if not low <= number <= high:
        raise BadRequestError(f"{name}={number} is out of range: {low} to {high}")
    return number


# -- incidents -------------------------------------------------------------------------------------


def _status_stream(res: StackResources, status: str, since: str | None, until: str | None) -> Stream:
    return Stream(
        name=status,
        read=lambda limit, token: res.incidents.by_status(status, limit, token, since=since, until=until),  # type: ignore[arg-type]
        key_fields=("incident_id", "status", "opened_at"),
    )


def incident_page(
    res: StackResources,
    status: str | None = None,
    service: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    page_token: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Incidents newest first, filtered by status, service and ``opened_at`` window; one page."""
    if status and status not in STATUSES:
        raise BadRequestError(f"status={status!r} is not one of: {', '.join(STATUSES)}")
    if service:
        check_service(service)
        streams = [
            Stream(
                name="service",
                read=lambda lim, tok: res.incidents.by_service(service, lim, tok, since=since, until=until),
                key_fields=("incident_id", "service", "opened_at"),
                keep=(lambda item: item.get("status") == status) if status else (lambda _item: True),
            )
        ]
    else:
        streams = [_status_stream(res, s, since, until) for s in ([status] if status else STATUSES)]
    return merged_page(streams, limit, page_token, res.run_all)


def _all_since(res: StackResources, status: str, since: str) -> tuple[list[dict[str, Any]], bool]:
    found: list[dict[str, Any]] = []
    token = None
    while True:
        page = res.incidents.by_status(status, 500, token, since=since)  # type: ignore[arg-type]
        found.extend(page.items)
        token = page.next_token
        if token is None:
            return found, False
        if len(found) >= MAX_WINDOW_INCIDENTS:
            return found, True


def incidents_in_window(
    res: StackResources, since: str, statuses: tuple[str, ...] = STATUSES
) -> tuple[list[dict], bool]:
    """Every incident opened since ``since`` (up to MAX_WINDOW_INCIDENTS a status); (items, truncated)."""
    results = res.run_all(*[lambda s=s: _all_since(res, s, since) for s in statuses])
    return [item for items, _ in results for item in items], any(truncated for _, truncated in results)


def open_incidents(res: StackResources, limit: int = 200) -> list[dict[str, Any]]:
    """The newest ``limit`` of each open status (open, remediating, escalated), newest first."""
    pages = res.run_all(*[lambda s=s: res.incidents.by_status(s, limit).items for s in OPEN_STATUSES])
    return sorted((i for page in pages for i in page), key=lambda i: i["opened_at"], reverse=True)


# -- overview --------------------------------------------------------------------------------------


@dataclass
class GuardState:
    policy_source: str
    dry_run: bool | None
    breaker_failures: int
    breaker_window_s: float
    breakers_open: list[str] = field(default_factory=list)
    recent_failures: dict[str, int] = field(default_factory=dict)
    approvals: list[dict[str, str]] = field(default_factory=list)  # who approves what, per catalog action


@dataclass
class Overview:
    generated_at: str
    services: list[ServiceHealth]
    colour_counts: dict[str, int]
    open_incidents: list[dict[str, Any]]
    open_count: int
    window: WindowSummary
    window_truncated: bool
    dlq_depth: int | None
    dlq_error: str | None
    guard: GuardState

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def guard_policy(res: StackResources) -> tuple[str, bool | None, GuardPolicy]:
    """The guard's limits as the remediator reads them (``/<prefix>/remediation/policy``), else the defaults."""
    ssm = res.client("ssm")
    name = f"/{res.name_prefix}/remediation/policy"
    try:
        raw = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return f"defaults ({name} not deployed)", None, GuardPolicy(allowed_actions={})
    try:
        limits = parse_limits(raw)
    except InvalidLimitsError as exc:
        # The remediator refuses a bad policy too: say so rather than guess.
        return f"{name} is invalid: {exc}", None, GuardPolicy(allowed_actions={})
    return name, limits.dry_run, limits.guard_policy()


def guard_state(
    res: StackResources, services: set[str], now: datetime, policy: tuple[str, bool | None, GuardPolicy] | None = None
) -> GuardState:
    """Open breakers among ``services`` (those with incidents lately): failed attempts in the breaker window."""
    source, dry_run, limits = policy or guard_policy(res)
    since = now - timedelta(seconds=limits.breaker_window_s)
    state = GuardState(source, dry_run, limits.breaker_failures, limits.breaker_window_s)
    state.approvals = [asdict(row) for row in approval_table(limits)]
    ordered = sorted(services)
    pages = res.run_all(
        *[lambda s=s: res.remediations.by_service(s, limit=100, since=iso(since)).items for s in ordered]
    )
    for service, attempts in zip(ordered, pages, strict=True):
        failures = [t for t in failed_attempts_by_service(attempts).get(service, []) if t >= since]
        if failures:
            state.recent_failures[service] = len(failures)
        if len(failures) >= limits.breaker_failures:
            state.breakers_open.append(service)
    return state


def dlq_depth(res: StackResources) -> tuple[int | None, str | None]:
    url = res.stack.get("incidents_dlq_url")
    if not url:
        return None, "no dead-letter queue in the discovery document"
    sqs = res.client("sqs")
    try:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    except sqs.exceptions.QueueDoesNotExist:
        return None, f"queue {url} does not exist"
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"]), None


def window_summary(res: StackResources, now: datetime) -> tuple[WindowSummary, bool, set[str]]:
    """The last 24 hours: (summary, truncated, services with incidents); cached for ``summary_ttl_s``."""

    def compute() -> tuple[WindowSummary, bool, set[str]]:
        items, truncated = incidents_in_window(res, iso(now - timedelta(hours=WINDOW_HOURS)))
        return summarise_window(items, now, WINDOW_HOURS), truncated, {i["service"] for i in items}

    return res.cached("window", compute)


def overview(res: StackResources, now: datetime | None = None, shown: int = 50) -> Overview:
    now = now or now_utc()
    names = res.service_names
    (window, truncated, recent_services), opened, states, (depth, error), policy = res.run_all(
        lambda: window_summary(res, now),
        lambda: open_incidents(res),
        lambda: res.fleet.get_many(names),
        lambda: dlq_depth(res),
        lambda: guard_policy(res),
    )
    by_service: dict[str, list[dict[str, Any]]] = {}
    for incident in opened:
        by_service.setdefault(incident["service"], []).append(incident)
    state_of = {s.service: s for s in states}
    healths = [service_health(name, state_of.get(name), by_service.get(name, [])) for name in names]
    counts = {"green": 0, "amber": 0, "red": 0}
    for health in healths:
        counts[health.colour] += 1
    return Overview(
        generated_at=iso(now),
        services=healths,
        colour_counts=counts,
        open_incidents=opened[:shown],
        open_count=len(opened),
        window=window,
        window_truncated=truncated,
        dlq_depth=depth,
        dlq_error=error,
        guard=guard_state(res, recent_services | set(by_service), now, policy),
    )


# -- incident detail -------------------------------------------------------------------------------

INCIDENT_DETAIL_MAX_PAGES = 20  # per trace table: a page of an incident's detail stays bounded


@dataclass
class IncidentDetail:
    incident: dict[str, Any]
    decisions: list[dict[str, Any]]
    llm_calls: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    pending_approvals: list[dict[str, Any]]
    artifacts: list[str]
    evidence: dict[str, list[tuple[str, float]]]
    evidence_window: tuple[str, str]
    # What each sink (Slack, PagerDuty, webhook, e-mail) was told, in order; failures with their last error.
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["evidence"] = {k: [{"t": t, "v": v} for t, v in pts] for k, pts in self.evidence.items()}
        return data


def public_attempt(attempt: dict[str, Any]) -> dict[str, Any]:
    """An attempt as pages and the API show it: the Step Functions task token never leaves the server."""
    shown = {k: v for k, v in attempt.items() if k != "task_token"}
    shown["awaiting_approval"] = is_pending(attempt)
    return shown


def is_pending(attempt: dict[str, Any]) -> bool:
    """Waiting for a human: the guard asked for approval, the execution left its token, nobody answered yet."""
    return (
        attempt.get("guard_decision") == "needs_approval"
        and bool(attempt.get("task_token"))
        and not attempt.get("approval")
    )


def artifact_keys(incident: dict[str, Any], attempts: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for record in [incident, *attempts]:
        for name, value in record.items():
            if name == "task_token":
                continue
            if (name.endswith("_key") or name == "evidence_key") and isinstance(value, str) and value:
                keys.append(value)
            if name.endswith("_keys") and isinstance(value, list):
                keys.extend(v for v in value if isinstance(v, str) and v)
    return list(dict.fromkeys(keys))


def fleet_minutes(minutes: float, time_scale: float = 1.0) -> timedelta:
    """``minutes`` of the fleet's simulated time as real time: ``healops up --time-scale N`` runs the fleet's
    clock N times faster, and the metrics are stamped in real time."""
    return timedelta(seconds=minutes * 60.0 / time_scale)


def ticks(count: float, tick_s: float) -> timedelta:
    """``count`` ticks as real time, a tick lasting ``tick_s`` real seconds (``StackResources.tick_real_seconds``)."""
    return timedelta(seconds=count * tick_s)


def metric_period(tick_s: float) -> int:
    """One datapoint per tick of ``tick_s`` real seconds, as a period CloudWatch accepts (1, 5, 10, 30 s or a
    multiple of 60 s), rounded down (a point per tick or finer, never a blend of several ticks)."""
    if tick_s >= 60:
        return int(tick_s // 60) * 60
    return max(p for p in HIGH_RESOLUTION_PERIODS if p <= max(tick_s, 1))


def evidence_window(incident: dict[str, Any], now: datetime, tick_s: float) -> tuple[datetime, datetime]:
    """From 30 ticks before the incident opened to 10 after it ended (at most 360 ticks, at least 5)."""
    opened = parse_time(incident.get("opened_at")) or now
    ended = parse_time(incident.get("resolved_at")) or parse_time(incident.get("escalated_at")) or now
    start = opened - ticks(30, tick_s)
    end = min(max(ended, opened) + ticks(10, tick_s), start + ticks(360, tick_s), now)
    return start, max(end, start + ticks(5, tick_s))


def incident_detail(res: StackResources, incident_id: str, now: datetime | None = None) -> IncidentDetail | None:
    now = now or now_utc()
    check_incident_id(incident_id)
    record = res.incidents.get(incident_id)
    if record is None:
        return None
    incident = record.model_dump(mode="json")
    start, end = evidence_window(incident, now, res.tick_real_seconds)
    decisions, calls, raw_attempts, evidence, deliveries = res.run_all(
        lambda: collect_pages(
            lambda tok: res.agent_decisions.for_incident(incident_id, 100, tok), INCIDENT_DETAIL_MAX_PAGES
        ),
        lambda: collect_pages(
            lambda tok: res.llm_actions.for_incident(incident_id, 50, tok), INCIDENT_DETAIL_MAX_PAGES
        ),
        lambda: collect_pages(
            lambda tok: (lambda p: (p.items, p.next_token))(res.remediations.for_incident(incident_id, 100, tok)),
            INCIDENT_DETAIL_MAX_PAGES,
        ),
        lambda: metric_series(res, incident["service"], EVIDENCE_METRICS, start, end),
        lambda: deliveries_of(res, incident_id),
    )
    return IncidentDetail(
        incident=incident,
        decisions=[d.model_dump(mode="json") for d in decisions],
        llm_calls=[c.model_dump(mode="json") for c in calls],
        attempts=[public_attempt(a) for a in raw_attempts],
        pending_approvals=[public_attempt(a) for a in raw_attempts if is_pending(a)],
        artifacts=artifact_keys(incident, raw_attempts),
        evidence=evidence,
        evidence_window=(iso(start), iso(end)),
        notifications=[d.model_dump(mode="json") for d in deliveries],
    )


def deliveries_of(res: StackResources, incident_id: str) -> list[DeliveryRecord]:
    """What the sinks were told about the incident; none on a stack deployed before the notifier."""
    notifications = res.notifications
    if notifications is None:
        return []
    return collect_pages(lambda tok: notifications.for_incident(incident_id, 100, tok), INCIDENT_DETAIL_MAX_PAGES)


# -- CloudWatch: metrics and logs ------------------------------------------------------------------


def metric_series(
    res: StackResources,
    service: str,
    metrics: tuple[str, ...],
    start: datetime,
    end: datetime,
    period: int | None = None,
) -> dict[str, list[tuple[str, float]]]:
    """GetMetricData for ``service``'s metrics (Average per ``period``: by default one point per tick of the
    stack's time scale), oldest first."""
    period = period or metric_period(res.tick_real_seconds)
    queries = [
        {
            "Id": f"m{i}",
            "Label": name,
            "MetricStat": {
                "Metric": {
                    "Namespace": res.metrics_namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": "Service", "Value": service}],
                },
                "Period": period,
                "Stat": "Average",
            },
        }
        for i, name in enumerate(metrics)
    ]
    series: dict[str, list[tuple[str, float]]] = {name: [] for name in metrics}
    cloudwatch = res.client("cloudwatch")
    kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
    for _ in range(10):
        response = cloudwatch.get_metric_data(**kwargs)
        for result in response["MetricDataResults"]:
            series[result["Label"]].extend(
                (iso(t), float(v)) for t, v in zip(result["Timestamps"], result["Values"], strict=False)
            )
        if not response.get("NextToken"):
            break
        kwargs["NextToken"] = response["NextToken"]
    return {name: sorted(points) for name, points in series.items()}


def log_tail(
    res: StackResources, service: str, since_ms: int | None, now: datetime, limit: int = 100
) -> dict[str, Any]:
    """The newest ``limit`` events of the service's log group after ``since_ms`` (default: 5 minutes), redacted."""
    group = res.log_group(service)
    start = since_ms if since_ms is not None else int((now - timedelta(minutes=5)).timestamp() * 1000)
    logs = res.client("logs")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start, "limit": 1000}
    try:
        for _ in range(5):
            response = logs.filter_log_events(**kwargs)
            events.extend(response.get("events", []))
            if not response.get("nextToken"):
                break
            kwargs["nextToken"] = response["nextToken"]
    except logs.exceptions.ResourceNotFoundException:
        return {"log_group": group, "events": [], "error": f"log group {group} does not exist"}
    events.sort(key=lambda e: (e["timestamp"], e.get("eventId", "")))
    tail = events[-limit:]
    return {
        "log_group": group,
        "events": [
            {
                "event_id": e.get("eventId", ""),
                "timestamp": e["timestamp"],
                "at": iso(datetime.fromtimestamp(e["timestamp"] / 1000, tz=UTC)),
                # Logs are untrusted: a service that logged a secret does not get it shown on a page.
                "message": redact(e["message"]),
            }
            for e in tail
        ],
        "error": None,
    }
