"""EventBridge schedule expressions: rate() rules, AWS cron syntax, next fire times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from healops.local.events.schedule import (
    CronSchedule,
    RateSchedule,
    ScheduleExpressionError,
    parse_schedule_expression,
)

# Friday 2025-03-14 12:34 UTC.
FRIDAY = datetime(2025, 3, 14, 12, 34, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- rate() ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(12 hours)", timedelta(hours=12)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(2 days)", timedelta(days=2)),
    ],
)
def test_rate_expressions_aws_accepts_have_their_period(expression: str, period: timedelta) -> None:
    schedule = parse_schedule_expression(expression)
    assert isinstance(schedule, RateSchedule)
    assert schedule.period == period


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "a rate of 1 takes the singular unit: rate(1 minute)"),
        ("rate(5 minute)", "a rate above 1 takes the plural unit: rate(5 minutes)"),
        ("rate(2 hour)", "rate(2 hours)"),
        ("rate(1 days)", "rate(1 day)"),
        ("rate(0 minutes)", "must be a positive integer, got '0'"),
        ("rate(-1 minutes)", "must be a positive integer, got '-1'"),
        ("rate(1.5 hours)", "must be a positive integer, got '1.5'"),
        ("rate(1 week)", "unknown rate unit 'week'; accepted: minute, minutes, hour, hours, day, days"),
        ("rate(1 second)", "unknown rate unit 'second'"),
        ("rate(minutes)", "expected rate(value unit)"),
        ("rate(5minutes)", "expected rate(value unit)"),
    ],
)
def test_invalid_rate_expressions_are_rejected_with_the_rule_they_break(expression: str, message: str) -> None:
    with pytest.raises(ScheduleExpressionError) as caught:
        parse_schedule_expression(expression)
    assert message in str(caught.value)


def test_rate_first_fires_one_period_after_its_anchor_then_every_period() -> None:
    schedule = parse_schedule_expression("rate(5 minutes)")
    anchor = at("2025-03-14T12:00:00")
    assert schedule.next_fire(anchor, anchor) == at("2025-03-14T12:05:00")
    assert schedule.next_fire(anchor, at("2025-03-14T12:05:00")) == at("2025-03-14T12:10:00")
    assert schedule.next_fire(anchor, at("2025-03-14T12:07:30")) == at("2025-03-14T12:10:00")


def test_rate_skips_missed_fires_instead_of_catching_up() -> None:
    schedule = parse_schedule_expression("rate(1 minute)")
    anchor = at("2025-03-14T12:00:00")
    # Ten periods passed unseen: the next fire is the next boundary, not ten at once.
    assert schedule.next_fire(anchor, at("2025-03-14T12:10:30")) == at("2025-03-14T12:11:00")


# -- cron(): examples from AWS's EventBridge documentation, and the syntax around them ----------


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # 10:00 every day
        ("cron(0 10 * * ? *)", FRIDAY, ["2025-03-15T10:00", "2025-03-16T10:00"]),
        # 12:15 every day (today's has passed)
        ("cron(15 12 * * ? *)", FRIDAY, ["2025-03-15T12:15"]),
        # 18:00 Monday to Friday
        ("cron(0 18 ? * MON-FRI *)", FRIDAY, ["2025-03-14T18:00", "2025-03-17T18:00"]),
        # 8:00 on the first day of every month
        ("cron(0 8 1 * ? *)", FRIDAY, ["2025-04-01T08:00", "2025-05-01T08:00"]),
        # every 15 minutes
        ("cron(0/15 * * * ? *)", FRIDAY, ["2025-03-14T12:45", "2025-03-14T13:00"]),
        # every 10 minutes Monday to Friday: from Friday night to Monday
        ("cron(0/10 * ? * MON-FRI *)", at("2025-03-14T23:55"), ["2025-03-17T00:00", "2025-03-17T00:10"]),
        # every 5 minutes Monday to Friday between 8:00 and 17:55
        ("cron(0/5 8-17 ? * MON-FRI *)", at("2025-03-14T17:55"), ["2025-03-17T08:00"]),
        # every 30 minutes Monday to Friday, 22:00 to 02:00 (an hour range that wraps midnight)
        ("cron(0/30 20-2 ? * MON-FRI *)", FRIDAY, ["2025-03-14T20:00", "2025-03-14T20:30"]),
        ("cron(0/30 20-2 ? * MON-FRI *)", at("2025-03-14T23:30"), ["2025-03-17T00:00", "2025-03-17T00:30"]),
        # 10:15 on the last Friday of every month, in a range of years
        ("cron(15 10 ? * 6L 2025-2026)", FRIDAY, ["2025-03-28T10:15", "2025-04-25T10:15"]),
        # 9:00 on the first Monday of every month
        ("cron(0 9 ? * 2#1 *)", FRIDAY, ["2025-04-07T09:00", "2025-05-05T09:00"]),
        ("cron(0 12 ? * SUN#2 *)", FRIDAY, ["2025-04-13T12:00"]),
        # the last day of the month
        ("cron(0 12 L * ? *)", FRIDAY, ["2025-03-31T12:00", "2025-04-30T12:00"]),
        # the weekday nearest the 15th: Saturday 15 March moves to Friday 14
        ("cron(0 12 15W * ? *)", at("2025-03-14T11:00"), ["2025-03-14T12:00", "2025-04-15T12:00"]),
        # Day-of-week L is Saturday, the last day of the week
        ("cron(0 0 ? * L *)", FRIDAY, ["2025-03-15T00:00", "2025-03-22T00:00"]),
        # AWS numbers days of the week 1-7 from Sunday (Unix cron's 1 is Monday)
        ("cron(0 0 ? * 1 *)", FRIDAY, ["2025-03-16T00:00"]),
        ("cron(0 0 ? * 7 *)", FRIDAY, ["2025-03-15T00:00"]),
        ("cron(0 0 ? * 2-3 *)", FRIDAY, ["2025-03-17T00:00", "2025-03-18T00:00", "2025-03-24T00:00"]),
        # a day-of-week range that wraps the week
        ("cron(0 0 ? * FRI-MON *)", FRIDAY, ["2025-03-15T00:00", "2025-03-16T00:00", "2025-03-17T00:00"]),
        # month names and lists
        ("cron(30 6 ? JAN,JUL MON *)", FRIDAY, ["2025-07-07T06:30", "2025-07-14T06:30"]),
        # steps in the day of the month
        ("cron(0 0 1/10 * ? *)", FRIDAY, ["2025-03-21T00:00", "2025-03-31T00:00", "2025-04-01T00:00"]),
        # one year only
        ("cron(0 0 1 1 ? 2030)", FRIDAY, ["2030-01-01T00:00"]),
        # lower-case names are accepted
        ("cron(0 18 ? * mon-fri *)", FRIDAY, ["2025-03-14T18:00"]),
    ],
)
def test_aws_cron_examples_fire_at_the_documented_times(expression: str, after: datetime, expected: list[str]) -> None:
    schedule = parse_schedule_expression(expression)
    assert isinstance(schedule, CronSchedule)
    fires: list[datetime] = []
    cursor = after
    for _ in expected:
        found = schedule.next_fire(after, cursor)
        assert found is not None
        fires.append(found)
        cursor = found
    assert fires == [at(text) for text in expected]
    assert all(fire.tzinfo is not None and fire.utcoffset() == timedelta(0) for fire in fires)


def test_cron_whose_years_have_passed_never_fires_again() -> None:
    schedule = parse_schedule_expression("cron(15 10 ? * 6L 2019-2022)")
    assert schedule.next_fire(FRIDAY, FRIDAY) is None
    last_in_range = parse_schedule_expression("cron(15 10 ? * 6L 2025-2026)")
    assert last_in_range.next_fire(FRIDAY, at("2026-12-25T10:15")) is None


def test_cron_next_fire_is_strictly_after_the_given_instant() -> None:
    schedule = parse_schedule_expression("cron(0/15 * * * ? *)")
    assert schedule.next_fire(FRIDAY, at("2025-03-14T12:45")) == at("2025-03-14T13:00")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 10 * * *)", "takes six fields (Minutes Hours Day-of-month Month Day-of-week Year), got 5"),
        ("cron(0 10 * * ? * *)", "got 7"),
        ("cron(0 10 * * MON *)", "exactly one of Day-of-month and Day-of-week must be '?'"),
        ("cron(0 10 ? * ? *)", "exactly one of Day-of-month and Day-of-week must be '?'"),
        ("cron(60 10 * * ? *)", "Minutes field '60': 60 is out of range; accepted: 0-59"),
        ("cron(0 24 * * ? *)", "Hours field '24': 24 is out of range; accepted: 0-23"),
        ("cron(0 10 32 * ? *)", "Day-of-month field '32': 32 is out of range; accepted: 1-31"),
        ("cron(0 10 0 * ? *)", "Day-of-month field '0': 0 is out of range"),
        ("cron(0 10 * 13 ? *)", "Month field '13': 13 is out of range; accepted: 1-12 or JAN-DEC"),
        ("cron(0 10 * FOO ? *)", "Month field 'FOO': unknown name 'FOO'"),
        ("cron(0 10 ? * 0 *)", "Day-of-week field '0': 0 is out of range; accepted: 1-7 or SUN-SAT"),
        ("cron(0 10 ? * 8 *)", "Day-of-week field '8': 8 is out of range"),
        ("cron(0 10 ? * 2#6 *)", "the occurrence after '#' must be 1-5, got 6"),
        ("cron(0 10 * * ? 1969)", "Year field '1969': 1969 is out of range"),
        ("cron(0 10 * * ? 2150)", "AWS allows up to 2199; this adapter computes up to 2099"),
        ("cron(? 10 * * ? *)", "Minutes field '?': '?' is only allowed in Day-of-month and Day-of-week"),
        ("cron(0 10 1,? * ? *)", "'?' must stand alone"),
        ("cron(0 10 1,15W * ? *)", "'W' takes a single day, not a list"),
        ("cron(0 10 LW * ? *)", "'LW' is not supported"),
        ("cron(0 10 L-2 * ? *)", "Day-of-month field 'L-2'"),
        ("cron(0 10 * 1#2 ? *)", "'#' is only allowed in Day-of-week"),
        ("cron(0 10 * * ? *) ", None),  # trailing blank outside the parentheses is fine
        ("cron(0 1-x * * ? *)", "Hours field '1-x': cannot read '1-x'"),
        ("cron(0 */0 * * ? *)", "a step must be a positive integer"),
        ("cron(0 10 ,1 * ? *)", "empty list item"),
        ("every 5 minutes", "neither rate(value unit) nor cron("),
        ("", "schedule expression is empty"),
    ],
)
def test_invalid_cron_expressions_name_the_field_and_what_is_accepted(expression: str, message: str | None) -> None:
    if message is None:
        assert isinstance(parse_schedule_expression(expression), CronSchedule)
        return
    with pytest.raises(ScheduleExpressionError) as caught:
        parse_schedule_expression(expression)
    assert message in str(caught.value)


def test_cron_translation_shifts_day_of_week_numbers_to_croniter() -> None:
    schedule = parse_schedule_expression("cron(0 9 ? * 2#1 *)")
    assert isinstance(schedule, CronSchedule)
    assert schedule.croniter_expression == "0 9 * * 1#1 0 *"
