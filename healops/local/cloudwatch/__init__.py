"""CloudWatch for the embedded cloud: an indexed metric store and a metric alarm evaluator.

Metric store (replaces moto's single list of datapoints, which every query scans once per
period; see :mod:`.queries` for how its answers relate to moto's):

- ``PutMetricData``: ``Value``, ``Values``/``Counts``, ``StatisticValues``, ``Unit``,
  ``Timestamp`` (default: now). ``StorageResolution`` is accepted and not needed: every point
  keeps its own timestamp. Points go to one series per (namespace, name, dimensions, unit),
  ordered by time, in ``array('d')`` columns (16 bytes a plain point).
- ``GetMetricData``: MetricStat queries with ``Average``, ``Sum``, ``Minimum``, ``Maximum``,
  ``SampleCount`` and percentiles ``pNN``/``pNN.NN``; ``Period``, ``Unit``, ``ScanBy``,
  ``ReturnData``, ``Label``; metric math (:mod:`.expressions`).
- ``GetMetricStatistics`` with ``Statistics`` and ``ExtendedStatistics`` (percentiles).
- ``ListMetrics`` by namespace, metric name, dimensions, ``RecentlyActive``.
- Retention: 15 days and 500,000 points a series by default (constructor arguments).
  Reads never see older points; a sweep every minute frees them.
- Percentiles are nearest-rank over raw values; statistic sets carry no distribution and are
  left out of percentiles (a period with only sets has none).
- Not supported: per-period summary buckets (reads are binary searches over the wanted
  series and were fast enough without them), ``MaxDatapoints``/``NextToken`` of
  GetMetricData (as in moto), Metrics Insights SQL (as moto: the sum of all points).

Alarm evaluator (:mod:`.alarms` documents periods, time scale and missing data precisely):

- every metric alarm of every account and region, every ``evaluation_interval`` simulated
  seconds (10): ``Statistic`` or ``ExtendedStatistic``, ``Period``, ``EvaluationPeriods``,
  ``DatapointsToAlarm`` (M of N), the four threshold comparison operators, ``Threshold``,
  ``TreatMissingData``, ``Dimensions`` (exact match), ``Unit``,
  ``EvaluateLowSampleCountPercentile``; metric math alarms (``Metrics``) with the expressions
  of :mod:`.expressions`;
- a state change goes through ``set_alarm_state`` (so ``DescribeAlarms`` shows it, with a
  CloudWatch-style ``StateReason`` and ``StateReasonData``), is recorded for
  ``DescribeAlarmHistory`` (which moto lacks and this extension adds), is put on the default
  event bus as a "CloudWatch Alarm State Change" event (source ``aws.cloudwatch``), and runs
  the new state's SNS actions when actions are enabled. ``SetAlarmState`` calls do the same.
- new alarms start in ``INSUFFICIENT_DATA``; updating an alarm keeps its state and history.
- Not evaluated: anomaly-detection operators (``LessThanLowerOrGreaterThanUpperThreshold``
  and the other band operators), composite alarms; CloudWatch's widened look-back when data
  is missing. Non-SNS actions (Auto Scaling, EC2, Lambda, Systems Manager) are skipped.
"""

from __future__ import annotations

from healops.local.cloudwatch.extension import CloudWatchExtension

__all__ = ["CloudWatchExtension"]
