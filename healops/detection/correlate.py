"""Correlation: signals of one tick, across the fleet, into one incident per fault episode (pure).

Rules, in order, for the signals of tick ``t``:

1. *Attribution along the dependency graph.* Services are visited dependencies first. A signalling service
   joins an open episode it already belongs to (as root or linked); otherwise, if one of its transitive
   dependencies signals this tick or belongs to an open episode, it is a downstream symptom and joins that
   dependency's episode (the nearest such dependency, then the name, so the choice is deterministic);
   otherwise it is the root of a new group. Only errors and latency travel up the call graph: a service with a
   strong *local* signal (its own heartbeat, saturation, memory or disk) has a fault of its own, so it roots
   its own group even when it also calls a failing service or is linked to another's incident.
2. *Opening.* A new group opens an episode only if one of its signals is strong. Its id is deterministic:
   ``<root>-<family>-<bucket>`` (family of the root's strongest signal, ``bucket`` the start tick rounded down
   to ``id_bucket_ticks``), so concurrent or repeated runs over the same signals produce the same id and the
   conditional write lets one of them create it. A group whose root had an episode resolved less than
   ``reopen_ticks`` ago reopens that episode instead.
3. *Flap suppression.* Any signal (strong or weak) keeps its episode open; an episode resolves after
   ``quiet_ticks`` ticks without one.
4. *Hand-back.* An episode whose incident the remediation resolved (it verified a fix) is resolved here too
   (:func:`hand_back`), though its signals had not gone quiet: a fix that does not hold (a restart that only
   empties a leaking heap) then shows as strong signals on its root within ``reopen_ticks``, which reopen it
   by rule 2, instead of joining an episode the rest of the system thinks is over. Lagging kinds (a burn rate
   over the last hour) fire on after any fix: alone they neither reopen it nor open another.
5. *Merging a caller's early episode.* Signals arrive one source at a time (an alarm's state change, a read of
   the metrics), so a caller's errors can open an episode of its own a moment before its failing dependency's
   signals arrive. An open episode opened at most ``merge_ticks`` ago, never reopened, with only errors or
   latency (what a dependency's fault causes in its callers), whose root calls a service with a current strong
   signal this tick, is merged: its services are linked to the dependency's episode, and it is resolved as
   merged (the change ``merge`` names the episode it went into, so its incident is closed before its
   remediation acts).

``correlate`` returns the changes to apply (open, link, resolve, reopen, merge) with the reasons in words; the state
(:class:`CorrelationState`) is JSON-able and bounded.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from healops.detection.signals import FAMILIES, LAGGING_KINDS, Signal

STATE_VERSION = 1
MAX_EPISODE_SIGNALS = 12  # strongest signals an episode keeps as evidence
# Families a dependency's fault cannot cause in its callers (only errors and added latency propagate).
LOCAL_FAMILIES = frozenset({"availability", "saturation", "memory", "disk"})


@dataclass(frozen=True)
class CorrelationConfig:
    quiet_ticks: int = 10  # an episode resolves after this many ticks without a signal
    reopen_ticks: int = 30  # a new episode on a root resolved this recently reopens it
    id_bucket_ticks: int = 15
    max_episodes: int = 500  # bound of the state: the oldest resolved episodes go first
    # A caller's errors-only episode this young merges into its dependency's when that one's signals arrive
    # (rule 5): both alarms of one crash fire at the same tick, the metrics' read a tick later.
    merge_ticks: int = 2


class DependencyGraph:
    """Who calls whom: ``depends_on`` per service (from the fleet definition)."""

    def __init__(self, depends_on: Mapping[str, Sequence[str]]) -> None:
        self.depends_on = {s: tuple(d) for s, d in depends_on.items()}
        self._order = self._topological()

    @property
    def services(self) -> list[str]:
        return list(self.depends_on)

    def _topological(self) -> dict[str, int]:
        order: dict[str, int] = {}

        def visit(name: str, seen: frozenset[str]) -> None:
            if name in order or name in seen:
                return
            for dep in self.depends_on.get(name, ()):
                visit(dep, seen | {name})
            order[name] = len(order)

        for name in sorted(self.depends_on):
            visit(name, frozenset())
        return order

    def dependencies_first(self, services: Iterable[str]) -> list[str]:
        return sorted(services, key=lambda s: (self._order.get(s, len(self._order)), s))

    def upstream(self, service: str) -> list[tuple[str, int]]:
        """Transitive dependencies of ``service`` with their distance, nearest first (BFS, names sorted)."""
        found: dict[str, int] = {}
        queue = deque([(service, 0)])
        while queue:
            name, distance = queue.popleft()
            for dep in sorted(self.depends_on.get(name, ())):
                if dep not in found and dep != service:
                    found[dep] = distance + 1
                    queue.append((dep, distance + 1))
        return sorted(found.items(), key=lambda item: (item[1], item[0]))


@dataclass
class Episode:
    incident_id: str
    root: str
    family: str
    kind: str
    start_tick: int
    last_signal_tick: int
    status: Literal["open", "resolved"] = "open"
    resolved_tick: int | None = None
    resolved_by: Literal["quiet", "remediation", "merged"] | None = None
    merged_into: str | None = None  # the episode this one was merged into (rule 5)
    linked: list[str] = field(default_factory=list)
    predicted: bool = False
    eta_s: float | None = None
    signals: list[dict[str, Any]] = field(default_factory=list)
    reopened: int = 0

    @property
    def services(self) -> list[str]:
        return [self.root, *self.linked]

    def resolve(self, tick: int, by: Literal["quiet", "remediation", "merged"]) -> None:
        self.status, self.resolved_tick, self.resolved_by = "resolved", tick, by

    def reopen(self, tick: int) -> None:
        self.status, self.resolved_tick, self.resolved_by, self.last_signal_tick = "open", None, None, tick

    def add_signals(self, signals: Iterable[Signal]) -> None:
        self.add_evidence([s.as_dict() for s in signals])

    def add_evidence(self, signals: Iterable[dict[str, Any]]) -> None:
        """Add signals already kept as evidence (another episode's, as dicts)."""
        merged = self.signals + list(signals)
        # keep the strongest few, strong before weak, then by score; ties by order of arrival
        ranked = sorted(enumerate(merged), key=lambda p: (not p[1].get("strong"), -float(p[1]["score"]), p[0]))
        self.signals = [s for _, s in ranked[:MAX_EPISODE_SIGNALS]]


@dataclass
class Change:
    action: Literal["open", "link", "resolve", "reopen", "merge"]
    episode: Episode
    signals: list[Signal] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    root_reason: str = ""  # why the root is the root (open and reopen): the planner takes it as a fact


@dataclass
class CorrelationState:
    episodes: dict[str, Episode] = field(default_factory=dict)

    def open_episodes(self) -> list[Episode]:
        return [e for e in self.episodes.values() if e.status == "open"]

    def to_state(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "episodes": [asdict(e) for e in self.episodes.values()]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> CorrelationState:
        if not state:
            return cls()
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"correlation state must have v={STATE_VERSION} (from to_state)")
        return cls({e["incident_id"]: Episode(**e) for e in state["episodes"]})


def incident_id(root: str, family: str, start_tick: int, bucket_ticks: int) -> str:
    """``<root>-<family>-<bucket start>``; a hash keeps it within the 80 characters an execution name allows."""
    candidate = f"{root}-{family}-{start_tick - start_tick % bucket_ticks}"
    if len(candidate) <= 80:
        return candidate
    digest = hashlib.sha256(candidate.encode()).hexdigest()[:12]
    return f"{candidate[:67]}-{digest}"


def _strongest(signals: Sequence[Signal]) -> Signal:
    return sorted(signals, key=lambda s: (not s.strong, not s.predicted, -s.score, s.kind))[0]


def _own_symptoms_only(episode: Episode) -> bool:
    """Whether ``episode``'s evidence is only what a dependency's fault causes in a caller (errors, latency)."""
    strong = [s for s in episode.signals if s.get("strong")]
    families = {FAMILIES.get(s["kind"], "") for s in strong}
    return episode.family not in LOCAL_FAMILIES and not families & LOCAL_FAMILIES


def _mergeable(
    state: CorrelationState, by_service: Mapping[str, Sequence[Signal]], tick: int, graph: DependencyGraph, ticks: int
) -> dict[str, str]:
    """Rule 5's candidates: open episode id -> the signalling dependency of its root it would merge under."""
    found: dict[str, str] = {}
    for episode in state.open_episodes():
        if episode.reopened or episode.predicted or tick - episode.start_tick > ticks:
            continue
        if not _own_symptoms_only(episode):
            continue
        local_now = {s.family for s in by_service.get(episode.root, ()) if s.strong} & LOCAL_FAMILIES
        if local_now:
            continue  # its own fault shows now: it stays its own episode
        for dep, _distance in graph.upstream(episode.root):
            if any(s.strong for s in by_service.get(dep, ())):  # an alarm too (lagging, but it is about now)
                found[episode.incident_id] = dep
                break
    return found


def correlate(
    state: CorrelationState,
    signals: Sequence[Signal],
    tick: int,
    graph: DependencyGraph,
    config: CorrelationConfig | None = None,
) -> list[Change]:
    """Apply tick ``tick``'s signals to ``state`` (in place) and return what changed."""
    c = config or CorrelationConfig()
    by_service: dict[str, list[Signal]] = {}
    for signal in signals:
        by_service.setdefault(signal.service, []).append(signal)

    merging = _mergeable(state, by_service, tick, graph, c.merge_ticks)
    staying = [e for e in state.open_episodes() if e.incident_id not in merging]
    member_of: dict[str, Episode] = {}
    for episode in staying:
        for service in episode.services:
            member_of.setdefault(service, episode)
    for episode in staying:  # a root's own episode wins over one it is linked to
        member_of[episode.root] = episode

    # target of each signalling service: ("episode", id) or ("group", root)
    target: dict[str, tuple[str, str]] = {}
    reason: dict[str, str] = {}
    rooted_by_local: set[str] = set()
    for service in graph.dependencies_first(by_service):
        local = sorted({s.family for s in by_service[service] if s.strong and s.family in LOCAL_FAMILIES})
        if service in member_of and (member_of[service].root == service or not local):
            target[service] = ("episode", member_of[service].incident_id)
            reason[service] = f"{service} already belongs to incident {member_of[service].incident_id}"
            continue
        target[service] = ("group", service)
        reason[service] = f"{service} is the most upstream service signalling"
        for dep, distance in graph.upstream(service):
            hops = f"{distance} hop{'s' * (distance > 1)}"
            if dep in target:
                target[service] = target[dep]
                reason[service] = f"{service} calls {dep} ({hops}), which signals too"
                break
            if dep in member_of:
                target[service] = ("episode", member_of[dep].incident_id)
                reason[service] = f"{service} calls {dep} ({hops}), in an open incident"
                break
        if local and (service in member_of or target[service] != ("group", service)):
            # Errors and latency may be a dependency's; these are its own: a fault of its own.
            target[service] = ("group", service)
            reason[service] = f"{service} shows {', '.join(local)} of its own, which no dependency's fault causes"
            rooted_by_local.add(service)

    changes: list[Change] = []
    landed: dict[str, Episode] = {}  # group key -> the episode its signals went to
    groups: dict[str, list[str]] = {}
    for service, (what, key) in target.items():
        groups.setdefault(f"{what}:{key}", []).append(service)

    for group_key, members in sorted(groups.items()):
        what, key = group_key.split(":", 1)
        group_signals = [s for m in members for s in by_service[m]]
        reasons = [reason[m] for m in members]
        if what == "episode":
            episode = state.episodes[key]
            episode.last_signal_tick = tick
            episode.add_signals(group_signals)
            forecasts = [s.eta_s for s in group_signals if s.predicted and s.eta_s is not None]
            if episode.predicted and forecasts:
                # the freshest forecast: a read that steps ten ticks writes the incident after its last one
                episode.eta_s = min(forecasts)
            landed[group_key] = episode
            new_links = [m for m in members if m not in episode.services]
            if new_links:
                episode.linked.extend(new_links)
                changes.append(Change("link", episode, group_signals, reasons))
            continue
        root = key
        if not any(s.strong for s in group_signals):
            continue  # weak signals alone never open an incident
        root_signals = by_service[root]
        if root in rooted_by_local:  # its errors or latency may be a dependency's; the local signal is its own
            root_signals = [s for s in root_signals if s.family in LOCAL_FAMILIES]
        lead = _strongest(root_signals if any(s.strong for s in root_signals) else group_signals)
        linked = [m for m in members if m != root]
        recent = _recently_resolved(state, root, tick, c.reopen_ticks)
        if recent is not None and recent.resolved_by == "remediation" and not _current(group_signals):
            continue  # the fixed fault's lagging summaries (a burn rate over the last hour), not a relapse
        if recent is not None:
            since = tick - (recent.resolved_tick or tick)
            if recent.resolved_by == "remediation":
                reasons.append(
                    f"{root}'s incident {recent.incident_id} was resolved by a remediation {since} ticks ago and its "
                    "signals are back: the fix did not hold; reopened"
                )
            else:
                reasons.append(
                    f"{root}'s incident {recent.incident_id} resolved {since} ticks ago: reopened, not a new one"
                )
            recent.reopen(tick)
            recent.reopened += 1
            recent.linked = sorted(set(recent.linked) | set(linked))
            recent.add_signals(group_signals)
            changes.append(Change("reopen", recent, group_signals, reasons, reason[root]))
            landed[group_key] = recent
            continue
        episode = Episode(
            incident_id=incident_id(root, lead.family, tick, c.id_bucket_ticks),
            root=root,
            family=lead.family,
            kind=lead.kind,
            start_tick=tick,
            last_signal_tick=tick,
            linked=linked,
            predicted=lead.predicted,
            eta_s=lead.eta_s,
        )
        episode.add_signals(group_signals)
        existing = state.episodes.get(episode.incident_id)
        if existing is not None:  # the same id in this bucket: it was resolved, and is back
            existing.reopen(tick)
            existing.add_signals(group_signals)
            changes.append(Change("reopen", existing, group_signals, reasons, reason[root]))
            landed[group_key] = existing
            continue
        state.episodes[episode.incident_id] = episode
        changes.append(Change("open", episode, group_signals, reasons, reason[root]))
        landed[group_key] = episode

    changes += _merge(state, merging, target, landed, tick)

    for episode in state.open_episodes():
        if tick - episode.last_signal_tick >= c.quiet_ticks:
            episode.resolve(tick, by="quiet")
            changes.append(Change("resolve", episode, [], [f"no signal for {tick - episode.last_signal_tick} ticks"]))
    _prune(state, tick, c)
    return changes


def _merge(
    state: CorrelationState,
    merging: Mapping[str, str],
    target: Mapping[str, tuple[str, str]],
    landed: Mapping[str, Episode],
    tick: int,
) -> list[Change]:
    """Rule 5: each merging episode's services join the episode its root's dependency's signals went to."""
    changes: list[Change] = []
    for incident, dep in sorted(merging.items()):
        caller = state.episodes[incident]
        what, key = target[dep]
        into = landed.get(f"{what}:{key}")
        if into is None or into is caller:
            continue  # the dependency's signals opened nothing (a fixed fault's lagging summaries): it stays
        new_links = [s for s in caller.services if s not in into.services]
        into.linked.extend(new_links)
        into.add_evidence(caller.signals)
        caller.resolve(tick, by="merged")
        caller.merged_into = into.incident_id
        why = (
            f"{caller.root}'s incident {caller.incident_id}, opened {tick - caller.start_tick} ticks ago with only "
            f"errors or latency, is merged into {into.incident_id}: {caller.root} calls {dep}, which signals now"
        )
        if new_links:
            changes.append(Change("link", into, [], [why]))
        changes.append(Change("merge", caller, [], [why]))
    return changes


def hand_back(state: CorrelationState, incident_ids: Collection[str], tick: int) -> list[Episode]:
    """Resolve the open episodes whose incident the remediation resolved (``incident_ids``), as of ``tick``.

    The remediation resolves an incident when a fix verifies; the detector's episode may still be open (weak
    signals, or the same fault coming back). Left open, every later signal would join an episode whose incident
    is over, and a fix that did not hold would never be seen again; resolved, the reopen rule applies. Returns the
    episodes handed back (no change to apply: their incidents are resolved already)."""
    wanted = set(incident_ids)
    handed = [e for e in state.open_episodes() if e.incident_id in wanted]
    for episode in handed:
        episode.resolve(tick, by="remediation")
    return handed


def _current(signals: Sequence[Signal]) -> bool:
    """Whether a strong signal among ``signals`` is about the present, not a window's summary."""
    return any(s.strong and s.kind not in LAGGING_KINDS for s in signals)


def _recently_resolved(state: CorrelationState, root: str, tick: int, window: int) -> Episode | None:
    candidates = [
        e
        for e in state.episodes.values()
        if e.root == root
        and e.status == "resolved"
        and e.resolved_by != "merged"  # its root's signals belong to the episode it was merged into
        and e.resolved_tick is not None
        and tick - e.resolved_tick <= window
    ]
    return max(candidates, key=lambda e: e.resolved_tick or 0, default=None)


def _prune(state: CorrelationState, tick: int, c: CorrelationConfig) -> None:
    for key, episode in list(state.episodes.items()):
        if episode.status == "resolved" and tick - (episode.resolved_tick or tick) > c.reopen_ticks + c.id_bucket_ticks:
            del state.episodes[key]
    if len(state.episodes) > c.max_episodes:
        resolved = sorted((e for e in state.episodes.values() if e.status == "resolved"), key=lambda e: e.resolved_tick)
        for episode in resolved[: len(state.episodes) - c.max_episodes]:
            del state.episodes[episode.incident_id]
