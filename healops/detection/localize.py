"""Root-cause ranking: every candidate service ordered by how likely it is the incident's root (pure).

The fleet's own localization, run over a recorded stretch of metrics: one :class:`ServiceDetector` per service
scores each tick (after learning an optional fault-free warm-up), and :func:`correlate` groups the tick's
signals into episodes along the dependency graph, naming each episode's root (the most upstream service
signalling, or a service with a fault of its own). Nothing says when the fault began: the episodes are the
detected onsets.

The ranking is the chosen incident's root, then the services linked to it in the order they joined, then every
other candidate by its *evidence* from the incident's start on: how far the highest ``log_urgency`` its detector
gave (the worst level series' robust z over the signal threshold, read before the tick is learned) rose above
its value at the stretch's first tick, so a service that moved without quite signalling still outranks one that
did not move, and one that was already off its normal when the stretch began (a warm-up from another time)
does not. Ties: dependencies first, then name. Without any episode, every candidate is ranked by evidence over
the whole stretch.

An episode whose root already signalled at the stretch's first tick began before it: no onset was seen, so it is
not a candidate incident. Which of the others is the incident when several opened
(:attr:`LocalizeConfig.incident`): ``"strongest"``, the one whose root's opening signal scored highest,
``"last"``, the most recently opened, or ``"first"``, the earliest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from healops.detection.correlate import CorrelationConfig, CorrelationState, DependencyGraph, correlate
from healops.detection.service import ServiceDetector, ServiceDetectorConfig
from healops.detection.signals import Signal

Tick = Mapping[str, Mapping[str, float]]  # service -> detector metric -> value, one sample
IncidentChoice = Literal["strongest", "last", "first"]
INCIDENT_CHOICES: tuple[IncidentChoice, ...] = ("strongest", "last", "first")


@dataclass(frozen=True)
class LocalizeConfig:
    detector: ServiceDetectorConfig = field(default_factory=ServiceDetectorConfig)
    correlation: CorrelationConfig = field(default_factory=CorrelationConfig)
    incident: IncidentChoice = "strongest"  # chosen by leave-one-system-out on the shared rca cases (both folds)

    def __post_init__(self) -> None:
        if self.incident not in INCIDENT_CHOICES:
            raise ValueError(f"incident {self.incident!r}: accepted are {', '.join(INCIDENT_CHOICES)}")


@dataclass(frozen=True)
class Opening:
    incident_id: str
    tick: int  # index into the ticks ranked (the warm-up not counted)
    root: str
    linked: tuple[str, ...]
    score: float  # the root's strongest signal's score at the opening


@dataclass(frozen=True)
class Ranking:
    services: list[str]  # every candidate, most likely root first
    incident: Opening | None  # the episode the ranking is about (None: no episode opened)
    openings: list[Opening]  # every episode opened or reopened over the stretch, in order


@dataclass(frozen=True)
class Detection:
    """What the detectors and the correlation found over the stretch, before any incident is chosen."""

    openings: list[Opening]  # every episode opened or reopened, in order
    evidence: list[dict[str, float]]  # per tick ranked, per service: ``log_urgency`` before learning the tick
    signalled_first: frozenset[str]  # the services with a strong signal at the first tick ranked


def warm_up(warmup: Sequence[Tick], config: ServiceDetectorConfig | None = None) -> dict[str, ServiceDetector]:
    """One detector per service of ``warmup`` (fault-free ticks), having learned it (signals ignored)."""
    c = config or ServiceDetectorConfig()
    detectors: dict[str, ServiceDetector] = {}
    for number, tick in enumerate(warmup):
        for service, metrics in tick.items():
            detectors.setdefault(service, ServiceDetector(service, c)).observe(number, metrics, logs=None)
    return detectors


def detect(
    ticks: Sequence[Tick],
    graph: DependencyGraph,
    detectors: dict[str, ServiceDetector] | None = None,
    config: LocalizeConfig | None = None,
) -> Detection:
    """Run ``detectors`` (warmed up, changed in place; a service without one gets a fresh one) and the correlation
    over ``ticks``."""
    c = config or LocalizeConfig()
    detectors = {} if detectors is None else detectors
    first = 1 + max((d.last_tick for d in detectors.values() if d.last_tick is not None), default=-1)
    state = CorrelationState()
    openings: list[Opening] = []
    evidence: list[dict[str, float]] = []
    signalled_first: set[str] = set()
    for offset, tick in enumerate(ticks):
        number = first + offset
        for service in tick:
            if service not in detectors:
                detectors[service] = ServiceDetector(service, c.detector)
        evidence.append({s: detectors[s].log_urgency(m) for s, m in tick.items()})
        signals: list[Signal] = []
        for service, metrics in tick.items():
            signals += detectors[service].observe(number, metrics, logs=None)
        if offset == 0:
            signalled_first = {s.service for s in signals if s.strong}
        for change in correlate(state, signals, number, graph, c.correlation):
            if change.action in ("open", "reopen"):
                episode = change.episode
                root_scores = [s.score for s in change.signals if s.service == episode.root and s.strong]
                score = max(root_scores, default=0.0)
                openings.append(Opening(episode.incident_id, offset, episode.root, tuple(episode.linked), score))
    # the services linked after each opening too (an episode pruned since keeps those it had)
    openings = [
        replace(o, linked=tuple(state.episodes[o.incident_id].linked)) if o.incident_id in state.episodes else o
        for o in openings
    ]
    return Detection(openings, evidence, frozenset(signalled_first))


def rank(detection: Detection, graph: DependencyGraph, candidates: Sequence[str], incident: IncidentChoice) -> Ranking:
    """Every candidate ranked for the episode ``incident`` picks (see the module docstring)."""
    evidence = detection.evidence
    # an episode whose root already signalled at the stretch's first tick began before it: no onset was seen
    before = evidence[0] if evidence else {}
    onsets = [o for o in detection.openings if o.root not in detection.signalled_first]
    chosen = _choose(onsets, incident)
    since = chosen.tick if chosen is not None else 0
    # evidence: how far a service moved from where the stretch found it
    strength = {s: max((e.get(s, 0.0) for e in evidence[since:]), default=0.0) - before.get(s, 0.0) for s in candidates}
    order = {s: i for i, s in enumerate(graph.dependencies_first(candidates))}
    head = [] if chosen is None else [chosen.root, *chosen.linked]
    head = [s for i, s in enumerate(head) if s in candidates and s not in head[:i]]
    rest = sorted((s for s in candidates if s not in head), key=lambda s: (-strength[s], order[s], s))
    return Ranking([*head, *rest], chosen, detection.openings)


def rank_root_causes(
    ticks: Sequence[Tick],
    graph: DependencyGraph,
    candidates: Sequence[str],
    warmup: Sequence[Tick] = (),
    config: LocalizeConfig | None = None,
) -> Ranking:
    """Rank ``candidates`` for the incident found in ``ticks`` (after learning ``warmup``, fault-free)."""
    c = config or LocalizeConfig()
    detection = detect(ticks, graph, warm_up(warmup, c.detector), c)
    return rank(detection, graph, candidates, c.incident)


def _choose(openings: list[Opening], how: IncidentChoice) -> Opening | None:
    if not openings:
        return None
    if how == "first":
        return openings[0]
    if how == "last":
        return openings[-1]
    return max(openings, key=lambda o: o.score)  # the earliest of equally strong ones
