"""`podwall lab logs` and `podwall lab metrics`: what the lab's collector saw.

A module of its own (registered on the `lab` group by podwall.cli.lab) so that the verbs that
build and prove a lab and those that watch it change apart.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from podwall.cli.common import handles_errors, output_option

F = TypeVar("F", bound=Callable[..., Any])

NAME = click.option("--name", default="default", show_default=True, metavar="NAME",
                    help="Which lab (several can run side by side).")


def logging_options(func: F) -> F:
    """`lab up`'s options for the collector (NFLOG group, allowed connections, metrics)."""
    func = click.option(
        "--metrics-address", default="127.0.0.1:0", show_default=True, metavar="HOST:PORT",
        help="Where the collector serves Prometheus metrics (port 0: a free port, shown by "
             "`lab status` and used by `lab metrics`). Loopback unless you say otherwise.")(func)
    func = click.option(
        "--log-allowed", is_flag=True,
        help="Also log the first packet of every allowed connection, with the rules that "
             "admitted it (`lab logs` action \"allow\").")(func)
    func = click.option(
        "--log-group", default=100, show_default=True, type=click.IntRange(0, 65535),
        metavar="N", help="The NFLOG group the ruleset logs to (one reader per group in the "
                          "node namespace).")(func)
    return func


def check_address(address: str) -> str:
    from podwall.errors import InputError
    from podwall.lab.collector import split_address

    try:
        split_address(address)
    except ValueError as exc:
        raise InputError(f"--metrics-address: {exc}") from None
    return address


@click.command()
@NAME
@click.option("-f", "--follow", is_flag=True, help="Keep printing events as they come (until "
                                                   "interrupted, or the lab goes down).")
@click.option("--since", default=None, metavar="DURATION",
              help="Only events of the last DURATION (30s, 10m, 1h30m, 2d).")
@output_option("text", "json", default="text")
@handles_errors
def logs(name: str, follow: bool, since: str | None, output: str) -> None:
    """Drops (and audits, and with --log-allowed admissions) the kernel logged, attributed.

    Every event names the pods (or the address of a host outside the cluster), the protocol
    and port, where it was judged, and the policies that isolate the pod there, in the words of
    `podwall check` ("no rule admits ..."), judged by the ruleset generation in force when the
    packet was, even across `lab apply`. Drop logging is rate-limited (100 a second per shared
    chain); the drop counters (`lab status`, `lab metrics`) count every drop.

    With ClusterNetworkPolicies an event names the deciding tier, policy, priority and rule
    ("Deny in admin/deny-x-to-y ingress[1] (others-not) at priority 10") and the Pass rules on
    the way, as `podwall check` does.

    -o json: JSON Lines, one object per event: time, action (drop|audit|allow), src, dst,
    protocol, port, direction (egress|ingress|forward), policies, rules, reason, srcIP, dstIP,
    generation, tier (null without cluster policies, else decidedBy, rule, passed, kernel: see
    docs/lab.md).

    \b
    Examples:
      sudo podwall lab logs
      sudo podwall lab logs -f --since 5m
      sudo podwall lab logs -o json | jq -c 'select(.action == "drop") | [.src, .dst, .policies]'
    """
    from podwall.lab import logs as events
    from podwall.lab.lab import Lab

    the_lab = Lab(name)
    the_lab.load_state()
    threshold = events.since_time(events.parse_duration(since) if since else None)
    found = (events.follow(the_lab.store, threshold, alive=the_lab.is_up) if follow
             else events.read_events(the_lab.store, threshold))
    try:
        for event in found:
            line = (json.dumps(event, ensure_ascii=False) if output == "json"
                    else events.event_text(event))
            click.echo(line)
            if follow:
                sys.stdout.flush()
    except KeyboardInterrupt:
        return


@click.command()
@NAME
@handles_errors
def metrics(name: str) -> None:
    """Print the lab's metrics once, in the Prometheus text format, as a scraper sees them.

    Drops per pod and direction (the kernel's counters: every drop), logged drops per pod and
    per isolating policy, allowed connections per admitting rule (--log-allowed), the ruleset
    generation, apply time and refusals. The collector serves the same on its
    --metrics-address (see `lab status -o json`) for Prometheus to scrape.

    \b
    Examples:
      sudo podwall lab metrics
      sudo podwall lab metrics --name demo | grep podwall_dropped_packets_total
    """
    from podwall.lab.lab import Lab

    click.echo(Lab(name).metrics(), nl=False)


COMMANDS = [logs, metrics]
