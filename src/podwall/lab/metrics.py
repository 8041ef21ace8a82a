"""The lab's metrics in the Prometheus text format (prometheus_client), fed by the collector.

Two sources, and the metric says which:
- the kernel's own counters, read at each scrape (`nft list counters` in the node namespace):
  `podwall_dropped_packets_total{pod,direction}` counts every drop, exactly, across ruleset
  swaps; `podwall_spoofed_packets_total` the packets dropped for a forged source address;
- the attributed NFLOG events: per pod and direction, per isolating policy, per admitting rule
  (`--log-allowed`). Drop logging is rate-limited per shared chain (a flood is counted exactly
  by the counters above, and logged at up to 100 packets a second), so these are the events
  seen, and `podwall_log_lost_events_total` says how many the kernel could not deliver.
And what `lab up`/`lab apply` record in the lab's folder: the live ruleset generation, how long
applying took, how often the kernel refused a ruleset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from podwall.lab.attribution import Event

# (pod, direction) of each drop counter, and its packets: read from the kernel at each scrape.
KernelCounters = Callable[[], Mapping[tuple[str, str], int]]


class _Scraped(Collector):
    """What is read at scrape time: the kernel's counters and the applies' record."""

    def __init__(self, counters: KernelCounters, spoofed: Callable[[], int],
                 applies: Callable[[], Mapping[str, Any]]) -> None:
        self.counters = counters
        self.spoofed = spoofed
        self.applies = applies

    def collect(self) -> Iterator[Metric]:
        dropped = CounterMetricFamily(
            "podwall_dropped_packets", "Packets dropped by the policies, per pod and direction "
            "(the ruleset's named counters: every drop, not only those logged).",
            labels=["pod", "direction"])
        for (pod, direction), packets in sorted(self.counters().items()):
            dropped.add_metric([pod, direction], packets)
        yield dropped
        yield CounterMetricFamily("podwall_spoofed_packets",
                                  "Packets from a pod whose source address is not the pod's.",
                                  value=self.spoofed())
        record = self.applies()
        yield GaugeMetricFamily("podwall_ruleset_generation",
                                "The ruleset generation in force (log prefixes carry it).",
                                value=int(record.get("generation", 0)))
        yield SummaryMetricFamily("podwall_ruleset_apply_seconds",
                                  "Time to compile, check and apply a ruleset (lab up/apply).",
                                  count_value=int(record.get("applies", 0)),
                                  sum_value=float(record.get("applySeconds", 0.0)))
        yield CounterMetricFamily("podwall_ruleset_apply_failures",
                                  "Rulesets the kernel refused (the previous one stayed).",
                                  value=int(record.get("failures", 0)))


class Metrics:
    """The collector's registry: `observe` each event, `text()` for a scrape."""

    def __init__(self, counters: KernelCounters, spoofed: Callable[[], int],
                 applies: Callable[[], Mapping[str, Any]]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)  # no kernel read at start
        self.events = Counter("podwall_log_events", "NFLOG events received, per action and "
                              "where they were judged.", ["action", "direction"],
                              registry=self.registry)
        self.pod_events = Counter("podwall_logged_drops", "Logged drops (action drop or "
                                  "audit), per pod where judged and direction.",
                                  ["action", "pod", "direction"], registry=self.registry)
        self.policy_events = Counter("podwall_policy_drops", "Logged drops (action drop or "
                                     "audit), per policy isolating the pod in that direction, "
                                     "or the cluster policy whose Deny decided.",
                                     ["action", "policy", "direction"], registry=self.registry)
        self.allowed = Counter("podwall_allowed_connections", "New connections let through "
                               "(--log-allowed), per policy rule that admitted them.",
                               ["policy", "rule"], registry=self.registry)
        self.lost = Counter("podwall_log_lost_events", "NFLOG events the kernel could not "
                            "deliver (a full socket buffer).", registry=self.registry)
        self.generation_seen = Gauge("podwall_log_newest_generation", "The newest ruleset "
                                     "generation an event was logged by.",
                                     registry=self.registry)
        self.newest = 0
        self.registry.register(_Scraped(counters, spoofed, applies))

    def observe(self, event: Event) -> None:
        self.events.labels(event.action, event.direction).inc()
        if event.generation > self.newest:
            self.newest = event.generation
            self.generation_seen.set(event.generation)
        if event.action == "allow":
            for rule in event.rules or ("(none)",):
                self.allowed.labels(rule.split(" ", 1)[0], rule).inc()
            return
        self.pod_events.labels(event.action, event.pod, event.direction).inc()
        for policy in event.policies:
            self.policy_events.labels(event.action, policy, event.direction).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["Metrics"]
