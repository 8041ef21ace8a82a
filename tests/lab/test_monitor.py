"""The lab's collector against the kernel: NFLOG events, attribution, metrics (root only).

Every lab is named `t<pid>-<N>` and torn down in a fixture, passing or failing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from podwall.analysis.wording import verdict_lines
from podwall.cli.main import cli
from podwall.engine import Engine
from podwall.lab import topology
from podwall.lab.lab import Lab
from podwall.model import Cluster, PortQuery
from tests.lab.test_lab import (
    EGRESS_DENY,
    FORTRESS,
    STATEFUL,
    finish,
    flood,
    new_lab,
    probe_from,
    with_pods,
)

pytestmark = pytest.mark.kernel
PROMETHEUS = shutil.which("prometheus") or ("/usr/bin/prometheus"
                                            if os.path.exists("/usr/bin/prometheus") else None)


@pytest.fixture
def lab() -> Iterator[Lab]:
    the_lab = new_lab()
    try:
        yield the_lab
    finally:
        the_lab.down()


def events(lab: Lab, *args: str) -> list[dict[str, Any]]:
    """`podwall lab logs -o json`, parsed (JSON Lines)."""
    result = CliRunner().invoke(cli, ["lab", "logs", "--name", lab.name, "-o", "json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the text format (0 when absent)."""
    for line in metrics.splitlines():
        found = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if found:
            have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1) or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                return float(found.group(2))
    return 0.0


def check_words(cluster: Cluster, src: str, dst: str, port: str) -> list[str]:
    """What `podwall check` says, line by line (the events must use the same words)."""
    return [line.strip() for line in verdict_lines(Engine(cluster).check(src, dst,
                                                                         PortQuery.parse(port)))]


def test_drops_of_a_denied_pair_arrive_with_the_words_of_check(lab: Lab) -> None:
    cluster = with_pods(STATEFUL)
    lab.up(cluster)
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80) == "dropped"  # x/a's ingress
    assert probe_from(lab, "x/b", "10.7.2.1", "UDP", 53) == "dropped"  # x/b's egress
    wait_for(lambda: len(events(lab)) >= 2)
    ingress, egress = events(lab)
    assert {k: ingress[k] for k in ("action", "src", "dst", "protocol", "port", "direction",
                                    "policies", "srcIP", "dstIP", "generation")} == {
        "action": "drop", "src": "y/a", "dst": "x/a", "protocol": "TCP", "port": 80,
        "direction": "ingress", "policies": ["x/server"], "srcIP": "10.7.2.1",
        "dstIP": "10.7.1.1", "generation": 1}
    assert ingress["reason"] == "ingress at x/a: denied — isolated by x/server; no rule admits y/a"
    assert ingress["reason"] in check_words(cluster, "y/a", "x/a", "TCP/80")
    assert (egress["src"], egress["dst"], egress["protocol"], egress["port"]) == (
        "x/b", "y/a", "UDP", 53)
    assert (egress["direction"], egress["policies"]) == ("egress", ["x/client"])
    assert egress["reason"] in check_words(cluster, "x/b", "y/a", "UDP/53")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ingress["time"])
    # the text form says the same, one line per event; --since filters by time
    text = CliRunner().invoke(cli, ["lab", "logs", "--name", lab.name]).output.splitlines()
    assert len(text) == 2 and text[0].endswith(f"DROP  y/a -> x/a TCP/80 g1: {ingress['reason']}"
                                               [len("DROP"):]) and " DROP  " in text[0]
    assert events(lab, "--since", "1h") == [ingress, egress]
    time.sleep(1.2)
    assert events(lab, "--since", "1s") == []


def test_counters_logs_and_metrics_match_the_number_of_probes(lab: Lab) -> None:
    lab.up(with_pods(STATEFUL))
    probes = 12
    for _ in range(probes):  # one SYN each: the timeout is shorter than TCP's first retry
        assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80, timeout=0.3) == "dropped"
    wait_for(lambda: len(events(lab)) >= probes)
    time.sleep(0.3)
    assert len(events(lab)) == probes
    assert lab.counters()["drop-in/x/a"].packets == probes
    text = CliRunner().invoke(cli, ["lab", "metrics", "--name", lab.name]).output
    assert sample(text, "podwall_dropped_packets_total", pod="x/a", direction="ingress") == probes
    assert sample(text, "podwall_logged_drops_total", action="drop", pod="x/a",
                  direction="ingress") == probes
    assert sample(text, "podwall_policy_drops_total", action="drop", policy="x/server",
                  direction="ingress") == probes
    assert sample(text, "podwall_log_events_total", action="drop", direction="ingress") == probes
    assert sample(text, "podwall_dropped_packets_total", pod="x/b", direction="egress") == 0
    assert sample(text, "podwall_ruleset_generation") == 1
    assert sample(text, "podwall_ruleset_apply_seconds_count") == 1
    assert sample(text, "podwall_ruleset_apply_failures_total") == 0
    assert sample(text, "podwall_log_lost_events_total") == 0


def test_allowed_connections_are_logged_with_the_rules_that_admitted_them() -> None:
    lab = new_lab()
    try:
        lab.up(with_pods(STATEFUL), logging={"logAllowed": True})
        assert probe_from(lab, "x/b", "10.7.1.1", "TCP", 80) == "connected"
        wait_for(lambda: any(e["action"] == "allow" for e in events(lab)))
        allowed = [e for e in events(lab) if e["action"] == "allow"]
        assert len(allowed) == 1  # the first packet only: the rest are established
        event = allowed[0]
        assert (event["src"], event["dst"], event["port"], event["direction"]) == (
            "x/b", "x/a", 80, "ingress")
        assert event["rules"] == ["x/client egress[0]", "x/server ingress[0]"]
        assert event["policies"] == ["x/client", "x/server"]
        text = lab.metrics()
        assert sample(text, "podwall_allowed_connections_total", policy="x/server",
                      rule="x/server ingress[0]") == 1
    finally:
        lab.down()


def test_a_swap_under_load_loses_no_attribution(lab: Lab) -> None:
    """x/a -> y/b is denied by y/b's ingress (y/fortress) in odd generations and by x/a's egress
    (x/no-y) in even ones. Every event must name the side and the policy of the generation
    that judged it, while the ruleset swaps under a flood."""
    versions = [with_pods(FORTRESS), with_pods(EGRESS_DENY)]
    lab.up(versions[0])
    proc = flood(lab, "x/a", "10.7.2.2")
    try:
        time.sleep(0.2)
        for i in range(20):
            lab.apply(versions[(i + 1) % 2])
            time.sleep(0.05)
    finally:
        finish(proc)
    time.sleep(0.5)
    seen = [e for e in events(lab) if e["dst"] == "y/b"]
    generations = {e["generation"] for e in seen}
    assert len(generations) >= 15, f"too few generations logged: {sorted(generations)}"
    for event in seen:
        expected = (("ingress", ["y/fortress"]) if event["generation"] % 2 == 1
                    else ("egress", ["x/no-y"]))
        assert (event["direction"], event["policies"]) == expected, event
        assert event["src"] == "x/a" and "no rule admits" in event["reason"], event
    assert sample(lab.metrics(), "podwall_log_lost_events_total") == 0


def test_the_collector_survives_apply_and_is_gone_after_down(lab: Lab) -> None:
    lab.up(with_pods(""))
    pid = lab.collector_info()["pid"]
    assert pid in topology.lab_processes(lab.name)
    lab.apply(with_pods(STATEFUL))
    assert lab.collector_info()["pid"] == pid  # the same process, now reading generation 2
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80) == "dropped"
    wait_for(lambda: any(e["generation"] == 2 for e in events(lab)))
    os.kill(pid, 9)  # a collector that died is started again by the next apply
    wait_for(lambda: pid not in topology.lab_processes(lab.name))
    lab.apply(with_pods(STATEFUL))
    again = lab.collector_info()["pid"]
    assert again != pid and again in topology.lab_processes(lab.name)
    lab.down()
    assert again not in topology.lab_processes(lab.name)
    assert subprocess.run(["pgrep", "-f", f"podwall.lab.collector --lab {lab.name} "],
                          capture_output=True, check=False).returncode == 1


def test_no_sysctl_and_no_host_state_changes(lab: Lab) -> None:
    def host() -> tuple[str, ...]:
        sysctls = sorted(Path("/proc/sys/net/netfilter").rglob("nf_log*"))
        return (*(p.read_text() for p in sysctls if p.is_file()),
                subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout,
                subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout)

    before = host()
    lab.up(with_pods(STATEFUL))
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80) == "dropped"
    wait_for(lambda: len(events(lab)) == 1)
    assert host() == before
    lab.down()
    assert host() == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(PROMETHEUS is None, reason="SKIPPED LOUDLY: no prometheus server "
                    "(Debian: apt-get install prometheus; scripts/test.sh installs it)")
def test_a_real_prometheus_scrapes_the_drop_counter(lab: Lab) -> None:
    assert PROMETHEUS is not None
    lab.up(with_pods(STATEFUL))
    for _ in range(3):
        assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80, timeout=0.3) == "dropped"
    target = lab.collector_info()["metricsAddress"]
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="pw-prom-") as tmp:
        config = Path(tmp) / "prometheus.yml"
        config.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                          "scrape_configs:\n- job_name: podwall-lab\n"
                          f"  static_configs: [{{targets: ['{target}']}}]\n")
        server = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            query = urllib.parse.urlencode(
                {"query": 'podwall_dropped_packets_total{pod="x/a",direction="ingress"}'})
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            found: list[Any] = []

            def scraped() -> bool:
                try:
                    with opener.open(f"http://127.0.0.1:{port}/api/v1/query?{query}",
                                     timeout=2) as answer:
                        found[:] = json.load(answer)["data"]["result"]
                except OSError:
                    return False
                return bool(found)

            wait_for(scraped, timeout=60)
            assert found[0]["metric"]["job"] == "podwall-lab"
            assert float(found[0]["value"][1]) == 3
        finally:
            server.terminate()
            server.wait(timeout=30)
