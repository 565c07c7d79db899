"""Metric math for GetMetricData: the part of CloudWatch's language dashboards and detectors use.

moto's own parser answers only an expression that is exactly a query id. This one accepts:

- numbers, query ids (of MetricStat queries and of earlier expressions), parentheses;
- ``+ - * /`` and unary minus between time series and scalars. Two series combine on the
  timestamps both have (as CloudWatch does); division by zero leaves the point out;
- ``SUM``, ``AVG``, ``MIN``, ``MAX`` of a list ``[m1, m2]`` or of ``METRICS()`` (per timestamp,
  over the series that have a value there), or of one series (a scalar, as in CloudWatch);
- ``ABS(x)``; ``FILL(series, value)`` and ``FILL(series, REPEAT)`` over the query's period grid.

Anything else is rejected with an error that names the expression and what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Union

TimeSeries = dict[datetime, float]
Value = Union[float, TimeSeries, list[TimeSeries]]  # noqa: UP007 (a runtime alias)

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/(),\[\]]))"
)
SUPPORTED = "numbers, query ids, + - * /, ( ), SUM/AVG/MIN/MAX/ABS, FILL(x, value|REPEAT), METRICS()"


class ExpressionError(ValueError):
    """An expression the evaluator cannot parse or evaluate."""


@dataclass
class _Token:
    kind: str
    text: str


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(
                f"cannot parse metric math {expression!r} at {text[position : position + 10]!r}; supported: {SUPPORTED}"
            )
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


class _Evaluator:
    def __init__(self, expression: str, results: dict[str, TimeSeries], grid: list[datetime]) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.position = 0
        self.results = results
        self.grid = grid

    def fail(self, why: str) -> ExpressionError:
        return ExpressionError(f"metric math {self.expression!r}: {why}; supported: {SUPPORTED}")

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise self.fail(f"expected {text or 'more'} at token {self.position + 1}")
        self.position += 1
        return token

    def run(self) -> Value:
        value = self.sum_expr()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return value

    def sum_expr(self) -> Value:
        value = self.product()
        while (token := self.peek()) is not None and token.text in "+-" and token.kind == "op":
            self.take()
            value = _combine(value, self.product(), token.text, self.fail)
        return value

    def product(self) -> Value:
        value = self.unary()
        while (token := self.peek()) is not None and token.text in "*/" and token.kind == "op":
            self.take()
            value = _combine(value, self.unary(), token.text, self.fail)
        return value

    def unary(self) -> Value:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text == "-":
            self.take()
            return _combine(-1.0, self.unary(), "*", self.fail)
        return self.primary()

    def primary(self) -> Value:
        token = self.take()
        if token.kind == "number":
            return float(token.text)
        if token.kind == "op" and token.text == "(":
            value = self.sum_expr()
            self.take(")")
            return value
        if token.kind == "op" and token.text == "[":
            items: list[TimeSeries] = []
            while True:
                item = self.sum_expr()
                if not isinstance(item, dict):
                    raise self.fail("a list holds time series only")
                items.append(item)
                if self.take().text == "]":
                    return items
        if token.kind == "name":
            next_token = self.peek()
            if next_token is not None and next_token.text == "(":
                return self.call(token.text.upper())
            if token.text in self.results:
                return self.results[token.text]
            raise self.fail(f"unknown id {token.text!r}")
        raise self.fail(f"unexpected {token.text!r}")

    def call(self, function: str) -> Value:
        self.take("(")
        args: list[Value] = []
        if self.peek() is not None and self.peek().text != ")":  # type: ignore[union-attr]
            while True:
                if function == "FILL" and len(args) == 1 and self.peek().text.upper() == "REPEAT":  # type: ignore[union-attr]
                    self.take()
                    args.append("REPEAT")  # type: ignore[arg-type]
                else:
                    args.append(self.sum_expr())
                if self.take().text == ")":
                    break
        else:
            self.take(")")
        return self.apply(function, args)

    def apply(self, function: str, args: list[Value]) -> Value:
        if function == "METRICS":
            if args:
                raise self.fail("METRICS() takes no arguments here")
            return [series for series in self.results.values()]
        if function in ("SUM", "AVG", "MIN", "MAX"):
            if len(args) != 1:
                raise self.fail(f"{function} takes one argument")
            return _reduce(function, args[0], self.fail)
        if function == "ABS":
            if len(args) != 1:
                raise self.fail("ABS takes one argument")
            return _map(args[0], abs, self.fail)
        if function == "FILL":
            if len(args) != 2 or not isinstance(args[0], dict):
                raise self.fail("FILL takes a time series and a value or REPEAT")
            return _fill(args[0], args[1], self.grid, self.fail)
        raise self.fail(f"function {function} is not supported")


def _map(value: Value, fn: object, fail: object) -> Value:
    if isinstance(value, float):
        return fn(value)  # type: ignore[operator]
    if isinstance(value, dict):
        return {stamp: fn(point) for stamp, point in value.items()}  # type: ignore[operator]
    return [_map(series, fn, fail) for series in value]  # type: ignore[misc]


def _apply_op(left: float, right: float, op: str) -> float | None:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    return left / right


def _combine(left: Value, right: Value, op: str, fail: object) -> Value:
    if isinstance(left, list) or isinstance(right, list):
        raise fail(f"operator {op!r} between lists is not supported")  # type: ignore[operator]
    if isinstance(left, float) and isinstance(right, float):
        result = _apply_op(left, right, op)
        if result is None:
            raise fail("division by zero")  # type: ignore[operator]
        return result
    combined: TimeSeries = {}
    if isinstance(left, dict) and isinstance(right, dict):
        for stamp, point in left.items():
            if stamp in right and (value := _apply_op(point, right[stamp], op)) is not None:
                combined[stamp] = value
        return combined
    if isinstance(left, dict):
        for stamp, point in left.items():
            if (value := _apply_op(point, right, op)) is not None:  # type: ignore[arg-type]
                combined[stamp] = value
        return combined
    for stamp, point in right.items():  # type: ignore[union-attr]
        if (value := _apply_op(left, point, op)) is not None:  # type: ignore[arg-type]
            combined[stamp] = value
    return combined


def _pick(function: str, values: list[float]) -> float:
    if function == "SUM":
        return sum(values)
    if function == "AVG":
        return sum(values) / len(values)
    return min(values) if function == "MIN" else max(values)


def _reduce(function: str, value: Value, fail: object) -> Value:
    if isinstance(value, float):
        return value
    if isinstance(value, dict):
        if not value:
            raise fail(f"{function} of an empty time series")  # type: ignore[operator]
        return _pick(function, list(value.values()))
    by_stamp: dict[datetime, list[float]] = {}
    for series in value:
        for stamp, point in series.items():
            by_stamp.setdefault(stamp, []).append(point)
    return {stamp: _pick(function, points) for stamp, points in by_stamp.items()}


def _fill(series: TimeSeries, how: Value | str, grid: list[datetime], fail: object) -> TimeSeries:
    filled: TimeSeries = {}
    if how == "REPEAT":
        last: float | None = None
        for stamp in grid:
            if stamp in series:
                last = series[stamp]
            if last is not None:
                filled[stamp] = last
        return filled
    if not isinstance(how, float):
        raise fail("FILL's value must be a number or REPEAT")  # type: ignore[operator]
    for stamp in grid:
        filled[stamp] = series.get(stamp, how)
    return filled


def evaluate(expression: str, results: dict[str, TimeSeries], grid: list[datetime]) -> TimeSeries:
    """The time series ``expression`` stands for.

    ``results``: the series of the queries evaluated so far, by id. ``grid``: the period start
    times of the request (for FILL and for broadcasting a scalar result).
    """
    value = _Evaluator(expression, results, grid).run()
    if isinstance(value, list):
        raise ExpressionError(f"metric math {expression!r} gives a list of series; wrap it in SUM/AVG/MIN/MAX")
    if isinstance(value, float):
        stamps = sorted({stamp for series in results.values() for stamp in series})
        return dict.fromkeys(stamps, value)
    return value
