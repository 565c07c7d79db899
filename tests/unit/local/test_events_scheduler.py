"""The schedule-rule scheduler on a simulated clock: when rules fire, stop and reschedule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from healops.local.events.scheduler import MAX_TICK_INTERVAL, RuleScheduler, SimulatedClock, scheduled_event

START = datetime(2025, 3, 14, 12, 0, 0, 500000, tzinfo=UTC).timestamp()


class FakeTime:
    """Real time under the test's control."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_rule(name: str, expression: str | None, state: str = "ENABLED") -> Any:
    return SimpleNamespace(
        name=name,
        arn=f"arn:aws:events:us-east-1:123456789012:rule/{name}",
        scheduled_expression=expression,
        state=state,
        account_id="123456789012",
        region_name="us-east-1",
        targets=[],
    )


class Harness:
    def __init__(self, scale: float) -> None:
        self.time = FakeTime()
        self.rules: dict[str, Any] = {}
        backend = SimpleNamespace(event_buses={"default": SimpleNamespace(rules=self.rules)})
        self.fired: list[tuple[str, datetime]] = []
        self.clock = SimulatedClock(scale, real_time=self.time)
        self.scheduler = RuleScheduler(
            self.clock,
            lambda rule: self.fired.append((rule.name, self.clock.now())),
            lambda: {"123456789012": {"us-east-1": backend}},
        )

    def run(self, real_seconds: float, step: float = 0.01) -> None:
        end = self.time.now + real_seconds
        while self.time.now < end - 1e-9:
            self.scheduler.tick()
            self.time.advance(step)
        self.scheduler.tick()

    def count(self, name: str) -> int:
        return sum(1 for fired, _ in self.fired if fired == name)


def test_rate_rule_fires_one_scaled_period_after_it_appears_then_every_period() -> None:
    harness = Harness(scale=60)
    harness.rules["r"] = make_rule("r", "rate(1 minute)")
    harness.run(0.95)
    assert harness.count("r") == 0  # not at once: one period after creation, like AWS
    harness.run(0.1)
    assert harness.count("r") == 1
    harness.run(3.0)
    assert harness.count("r") == 4
    # Fires are a simulated minute apart, i.e. one real second at scale 60.
    times = [when for _, when in harness.fired]
    assert all(abs((b - a).total_seconds() - 60) < 1.0 for a, b in itertools.pairwise(times))


def test_rules_that_are_disabled_deleted_or_pattern_only_do_not_fire() -> None:
    harness = Harness(scale=60)
    harness.rules["off"] = make_rule("off", "rate(1 minute)", state="DISABLED")
    harness.rules["pattern"] = make_rule("pattern", None)
    harness.rules["gone"] = make_rule("gone", "rate(1 minute)")
    harness.run(1.5)
    assert harness.count("gone") == 1
    del harness.rules["gone"]
    harness.run(3.0)
    assert harness.fired == [("gone", harness.fired[0][1])]


def test_disabling_stops_a_rule_and_enabling_starts_a_new_period() -> None:
    harness = Harness(scale=60)
    rule = make_rule("r", "rate(1 minute)")
    harness.rules["r"] = rule
    harness.run(1.05)
    assert harness.count("r") == 1
    rule.state = "DISABLED"
    harness.run(3.0)
    assert harness.count("r") == 1
    rule.state = "ENABLED"
    harness.run(0.9)
    assert harness.count("r") == 1
    harness.run(0.2)
    assert harness.count("r") == 2


def test_a_new_expression_reschedules_the_rule() -> None:
    harness = Harness(scale=60)
    rule = make_rule("r", "rate(10 minutes)")
    harness.rules["r"] = rule
    harness.run(5.0)
    assert harness.count("r") == 0
    rule.scheduled_expression = "rate(1 minute)"
    harness.run(1.05)
    assert harness.count("r") == 1


def test_cron_rule_fires_on_the_simulated_clock() -> None:
    # The clock starts at 12:00:00.5; at scale 600 a simulated hour passes in 6 real seconds.
    harness = Harness(scale=600)
    harness.rules["hourly"] = make_rule("hourly", "cron(0 * * * ? *)")
    harness.rules["quarter"] = make_rule("quarter", "cron(0/15 * * * ? *)")
    harness.run(6.1, step=0.005)
    hourly = [when for name, when in harness.fired if name == "hourly"]
    quarter = [when for name, when in harness.fired if name == "quarter"]
    assert [when.replace(second=0, microsecond=0) for when in hourly] == [datetime(2025, 3, 14, 13, 0, tzinfo=UTC)]
    assert [when.strftime("%H:%M") for when in quarter] == ["12:15", "12:30", "12:45", "13:00"]
    # Each fire lands within one tick (0.005 real s = 3 simulated s) of its minute.
    assert all(when.second < 4 for when in quarter)


def test_invalid_expression_never_fires_and_does_not_stop_other_rules(caplog: pytest.LogCaptureFixture) -> None:
    harness = Harness(scale=60)
    harness.rules["bad"] = make_rule("bad", "cron(0 10 * * MON *)")
    harness.rules["good"] = make_rule("good", "rate(1 minute)")
    harness.run(1.1)
    assert harness.count("bad") == 0
    assert harness.count("good") == 1
    assert "schedule rule arn:aws:events:us-east-1:123456789012:rule/bad will not fire" in caplog.text
    assert caplog.text.count("will not fire") == 1  # logged once, not on every tick


def test_a_failing_fire_is_logged_and_the_rule_keeps_its_schedule(caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime()
    clock = SimulatedClock(60, real_time=time)
    rules = {"r": make_rule("r", "rate(1 minute)")}
    backend = SimpleNamespace(event_buses={"default": SimpleNamespace(rules=rules)})
    calls: list[datetime] = []

    def fire(rule: Any) -> None:
        calls.append(clock.now())
        raise RuntimeError("target exploded")

    scheduler = RuleScheduler(clock, fire, lambda: {"1": {"r": backend}})
    for _ in range(250):
        scheduler.tick()
        time.advance(0.01)
    assert len(calls) == 2
    assert "firing failed" in caplog.text


def test_interval_sleeps_until_the_next_fire_but_never_long() -> None:
    harness = Harness(scale=60)
    assert harness.scheduler.interval() == MAX_TICK_INTERVAL
    harness.rules["r"] = make_rule("r", "rate(1 minute)")
    harness.scheduler.tick()
    harness.time.advance(0.9)
    assert harness.scheduler.interval() == pytest.approx(0.1, abs=0.01)


def test_scheduled_event_has_aws_shape() -> None:
    rule = make_rule("nightly", "cron(0 3 * * ? *)")
    event = scheduled_event(rule, START)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [rule.arn]
    assert event["detail"] == {}
    assert (event["account"], event["region"], event["version"]) == ("123456789012", "us-east-1", "0")
    assert len(event["id"]) == 36 and event["id"] != scheduled_event(rule, START)["id"]
