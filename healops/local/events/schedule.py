"""EventBridge schedule expressions: ``rate(...)`` and AWS's six-field ``cron(...)``.

Pure logic, no moto. :func:`parse_schedule_expression` turns an expression into a
:class:`RateSchedule` or a :class:`CronSchedule`; both answer "when is the next fire after
this instant" in UTC.

``rate(value unit)``, as AWS accepts it: ``value`` a positive integer, ``unit`` one of
``minute``/``minutes``/``hour``/``hours``/``day``/``days``, singular exactly when the value
is 1 (``rate(1 minute)``, ``rate(5 minutes)``; ``rate(1 minutes)`` and ``rate(5 minute)``
are rejected, as AWS rejects them).

``cron(Minutes Hours Day-of-month Month Day-of-week Year)``: croniter does the date
arithmetic; this module validates AWS's syntax and translates it to croniter's seven-field
form (``min hour dom month dow second year``). The adapter covers:

- every field: ``*``, single values, lists ``a,b``, ranges ``a-b`` (a range that wraps, such
  as hours ``22-2`` or ``FRI-MON``, runs through the end of the field and on from its
  start, as on AWS), steps ``*/n``, ``a/n`` and ``a-b/n``;
- Month names ``JAN``-``DEC`` and Day-of-week names ``SUN``-``SAT`` (any case);
- Day-of-week numbers 1-7 meaning SUN-SAT (AWS's numbering; Unix cron uses 0-6);
- ``?`` in Day-of-month or Day-of-week: exactly one of the two must be ``?``, as on AWS;
- Day-of-month ``L`` (last day of the month) and ``nW`` (the weekday nearest day n, alone);
- Day-of-week ``L`` (Saturday, the last day of the week), ``nL`` (the last day n of the
  month, e.g. ``6L`` the last Friday) and ``n#k`` (the k-th day n, e.g. ``2#1`` the first
  Monday; k 1-5);
- Year 1970-2099.

It rejects, with a :class:`ScheduleExpressionError` naming the field and what it accepts:
a field count other than six, values out of range, ``?`` outside Day-of-month/Day-of-week
or combined with other values, both or neither of those two fields being ``?``, ``L``/``W``
/``#`` where AWS does not allow them, ``W`` in a list or range, ``LW`` and ``L-n`` offsets
(not documented by AWS), and years 2100-2199, which AWS accepts but croniter cannot compute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

__all__ = [
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleExpressionError",
    "parse_schedule_expression",
]


class ScheduleExpressionError(ValueError):
    """A schedule expression EventBridge would not accept (or this adapter cannot compute)."""


_RATE_UNITS: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_RATE_RE = re.compile(r"^rate\(\s*(?P<value>[^\s()]+)\s+(?P<unit>[^\s()]+)\s*\)$")
_CRON_RE = re.compile(r"^cron\((?P<body>.*)\)$")


@dataclass(frozen=True)
class RateSchedule:
    """``rate(value unit)``: fires every ``period``, first one period after it is set up."""

    expression: str
    value: int
    unit: str

    @property
    def period(self) -> timedelta:
        return self.value * _RATE_UNITS[self.unit]

    def next_fire(self, anchor: datetime, after: datetime) -> datetime:
        """The first ``anchor + k * period`` (k >= 1) strictly later than ``after``.

        Fires missed while the clock jumped are skipped, not caught up: EventBridge does not
        replay missed schedule invocations either.
        """
        period = self.period
        if after < anchor + period:
            return anchor + period
        periods_elapsed = (after - anchor) // period
        return anchor + (periods_elapsed + 1) * period


@dataclass(frozen=True)
class CronSchedule:
    """``cron(...)``: ``croniter_expression`` is the translated seven-field croniter form."""

    expression: str
    croniter_expression: str

    def next_fire(self, anchor: datetime, after: datetime) -> datetime | None:
        """The first matching minute strictly later than ``after``; None if there is none.

        ``anchor`` is unused (cron times are absolute); it keeps the interface of
        :meth:`RateSchedule.next_fire`.
        """
        del anchor
        try:
            found = croniter(self.croniter_expression, after.astimezone(UTC)).get_next(datetime)
        except CroniterBadDateError:
            # A Year field entirely in the past: the rule never fires again.
            return None
        return found.astimezone(UTC)


Schedule = RateSchedule | CronSchedule


def parse_schedule_expression(expression: str) -> Schedule:
    """Parse an EventBridge ``ScheduleExpression``; raise ScheduleExpressionError if invalid."""
    if not isinstance(expression, str) or not expression.strip():
        raise ScheduleExpressionError(
            "schedule expression is empty: expected rate(value unit) or "
            "cron(Minutes Hours Day-of-month Month Day-of-week Year)"
        )
    text = expression.strip()
    if text.startswith("rate("):
        return _parse_rate(text)
    if text.startswith("cron("):
        return _parse_cron(text)
    raise ScheduleExpressionError(
        f"schedule expression {expression!r} is neither rate(value unit) nor "
        "cron(Minutes Hours Day-of-month Month Day-of-week Year)"
    )


def _parse_rate(text: str) -> RateSchedule:
    match = _RATE_RE.match(text)
    if match is None:
        raise ScheduleExpressionError(
            f"{text!r}: expected rate(value unit), e.g. rate(1 minute), rate(5 minutes), rate(1 hour), rate(2 days)"
        )
    raw_value, unit = match["value"], match["unit"]
    if not raw_value.isdigit() or int(raw_value) < 1:
        raise ScheduleExpressionError(f"{text!r}: the rate value must be a positive integer, got {raw_value!r}")
    value = int(raw_value)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _RATE_UNITS:
        raise ScheduleExpressionError(
            f"{text!r}: unknown rate unit {unit!r}; accepted: minute, minutes, hour, hours, day, days"
        )
    if value == 1 and unit != singular:
        raise ScheduleExpressionError(f"{text!r}: a rate of 1 takes the singular unit: rate(1 {singular})")
    if value > 1 and unit == singular:
        raise ScheduleExpressionError(f"{text!r}: a rate above 1 takes the plural unit: rate({value} {singular}s)")
    return RateSchedule(expression=text, value=value, unit=singular)


@dataclass(frozen=True)
class _Field:
    """One cron field: its name, numeric bounds, names, and the AWS extras it allows."""

    name: str
    low: int
    high: int
    names: dict[str, int]
    extras: str  # AWS's wildcards beyond ", - * /", shown in error messages
    shift: int = 0  # added to every number to get croniter's numbering

    def accepted(self) -> str:
        names = f" or {min(self.names, key=self.names.__getitem__)}-" if self.names else ""
        if self.names:
            names += max(self.names, key=self.names.__getitem__)
        wildcards = ", - * /" + (f" {self.extras}" if self.extras else "")
        return f"{self.low}-{self.high}{names}, with {wildcards}"


_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
_DAY_NAMES = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}

_MINUTES = _Field("Minutes", 0, 59, {}, "")
_HOURS = _Field("Hours", 0, 23, {}, "")
_DAY_OF_MONTH = _Field("Day-of-month", 1, 31, {}, "? L W")
_MONTH = _Field("Month", 1, 12, _MONTH_NAMES, "")
# AWS numbers days 1-7 from Sunday; croniter (like Unix cron) 0-6.
_DAY_OF_WEEK = _Field("Day-of-week", 1, 7, _DAY_NAMES, "? L #", shift=-1)
# AWS accepts up to 2199; croniter computes up to 2099.
_YEAR = _Field("Year", 1970, 2099, {}, "")

_NUMBER_OR_NAME = r"[0-9]+|[A-Za-z]{3}"
_ITEM_RE = re.compile(
    rf"^(?:(?P<star>\*)|(?P<start>{_NUMBER_OR_NAME})(?:-(?P<end>{_NUMBER_OR_NAME}))?)(?:/(?P<step>[0-9]+))?$"
)


def _parse_cron(text: str) -> CronSchedule:
    match = _CRON_RE.match(text)
    assert match is not None  # the caller checked the prefix; the regex only adds the ")"
    fields = match["body"].split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{text!r}: AWS cron takes six fields (Minutes Hours Day-of-month Month Day-of-week Year), "
            f"got {len(fields)}"
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleExpressionError(
            f"{text!r}: exactly one of Day-of-month and Day-of-week must be '?' (AWS does not combine "
            f"them), got Day-of-month {day_of_month!r} and Day-of-week {day_of_week!r}"
        )
    translated = [
        _translate_field(text, _MINUTES, minutes),
        _translate_field(text, _HOURS, hours),
        _translate_field(text, _DAY_OF_MONTH, day_of_month),
        _translate_field(text, _MONTH, month),
        _translate_field(text, _DAY_OF_WEEK, day_of_week),
        "0",  # croniter's seconds field: AWS fires on the minute
        _translate_field(text, _YEAR, year),
    ]
    croniter_expression = " ".join(translated)
    try:
        croniter(croniter_expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CroniterError as exc:  # should not happen after validation; say which input did it
        raise ScheduleExpressionError(f"{text!r}: not computable by croniter: {exc}") from exc
    return CronSchedule(expression=text, croniter_expression=croniter_expression)


def _field_error(text: str, field: _Field, value: str, why: str) -> ScheduleExpressionError:
    return ScheduleExpressionError(f"{text!r}: {field.name} field {value!r}: {why}; accepted: {field.accepted()}")


def _translate_field(text: str, field: _Field, value: str) -> str:
    if value == "?":
        if field is not _DAY_OF_MONTH and field is not _DAY_OF_WEEK:
            raise _field_error(text, field, value, "'?' is only allowed in Day-of-month and Day-of-week")
        return "*"
    items = value.split(",")
    if field is _DAY_OF_MONTH and len(items) > 1 and any(item.upper().endswith("W") for item in items):
        raise _field_error(text, field, value, "'W' takes a single day, not a list")
    return ",".join(_translate_item(text, field, value, item) for item in items)


def _translate_item(text: str, field: _Field, value: str, item: str) -> str:
    upper = item.upper()
    if not upper:
        raise _field_error(text, field, value, "empty list item")
    if "?" in upper:
        raise _field_error(text, field, value, "'?' must stand alone")
    if field is _DAY_OF_MONTH and ("L" in upper or "W" in upper):
        return _translate_day_of_month_special(text, value, upper)
    if field is _DAY_OF_WEEK and ("#" in upper or upper == "L" or re.fullmatch(r"[0-9A-Z]+L", upper)):
        return _translate_day_of_week_special(text, value, upper)
    if "#" in upper:
        raise _field_error(text, field, value, "'#' is only allowed in Day-of-week")
    match = _ITEM_RE.match(upper)
    if match is None:
        raise _field_error(text, field, value, f"cannot read {item!r}")
    step = match["step"]
    if step is not None and int(step) < 1:
        raise _field_error(text, field, value, "a step must be a positive integer")
    if match["star"]:
        return "*" if step is None else f"*/{step}"
    start = _value(text, field, value, match["start"])
    if match["end"] is None:
        if step is None:
            return str(start + field.shift)
        # AWS's "a/n" means from a to the end of the field, every n.
        return f"{start + field.shift}-{field.high + field.shift}/{step}"
    end = _value(text, field, value, match["end"])
    if start <= end:
        suffix = "" if step is None else f"/{step}"
        return f"{start + field.shift}-{end + field.shift}{suffix}"
    return _wrapped_range(field, start, end, int(step or 1))


def _wrapped_range(field: _Field, start: int, end: int, step: int) -> str:
    # A range such as hours 22-2 runs to the end of the field and on from its start; written
    # out as a list so the step keeps its phase across the wrap.
    span = list(range(start, field.high + 1)) + list(range(field.low, end + 1))
    return ",".join(str(number + field.shift) for number in span[::step])


def _value(text: str, field: _Field, value: str, token: str) -> int:
    if token.isdigit():
        number = int(token)
    elif token in field.names:
        number = field.names[token]
    else:
        raise _field_error(text, field, value, f"unknown name {token!r}")
    if not field.low <= number <= field.high:
        hint = " (AWS allows up to 2199; this adapter computes up to 2099)" if field is _YEAR else ""
        raise _field_error(text, field, value, f"{number} is out of range{hint}")
    return number


def _translate_day_of_month_special(text: str, value: str, item: str) -> str:
    field = _DAY_OF_MONTH
    if item == "L":
        return "L"
    if item == "LW":
        raise _field_error(text, field, value, "'LW' is not supported (not documented by AWS)")
    match = re.fullmatch(r"([0-9]+)W", item)
    if match is None:
        raise _field_error(text, field, value, "'L' must stand alone and 'W' follows a single day, as in 15W")
    day = _value(text, field, value, match[1])
    return f"{day}W"


def _translate_day_of_week_special(text: str, value: str, item: str) -> str:
    field = _DAY_OF_WEEK
    if item == "L":
        return str(_DAY_NAMES["SAT"] + field.shift)  # the last day of the week
    last = re.fullmatch(r"([0-9]+|[A-Z]{3})L", item)
    if last is not None:
        day = _value(text, field, value, last[1])
        return f"L{day + field.shift}"
    nth = re.fullmatch(r"([0-9]+|[A-Z]{3})#([0-9]+)", item)
    if nth is None:
        raise _field_error(text, field, value, "use 'nL' for the last day n of the month or 'n#k' for the k-th")
    day = _value(text, field, value, nth[1])
    occurrence = int(nth[2])
    if not 1 <= occurrence <= 5:
        raise _field_error(text, field, value, f"the occurrence after '#' must be 1-5, got {occurrence}")
    return f"{day + field.shift}#{occurrence}"
