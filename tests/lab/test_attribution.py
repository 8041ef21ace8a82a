"""Attribution, the events file and the metrics, without a kernel (no root needed)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from podwall.dataplane.logprefix import LogPrefix
from podwall.dataplane.nflog import LogPacket
from podwall.engine import Engine
from podwall.errors import InputError
from podwall.lab.attribution import Event, Generations, attribute
from podwall.lab.collector import EVENTS, ROTATED, split_address
from podwall.lab.logs import event_text, follow, parse_duration, read_events, since_time
from podwall.lab.metrics import Metrics
from podwall.lab.store import Store, UnsafeStateError
from tests.lab.test_lab import STATEFUL, with_pods

CLUSTER = with_pods(STATEFUL)


def packet(src: str, dst: str, protocol: str = "TCP", port: int | None = 80) -> LogPacket:
    return LogPacket("", 1_700_000_000.25, src, dst, protocol, port)


def test_a_drop_names_the_isolating_policies_in_the_words_of_check() -> None:
    event = attribute(Engine(CLUSTER), packet("10.7.2.1", "10.7.1.1"),
                      LogPrefix("drop", "ingress", 4))
    assert (event.src, event.dst, event.direction, event.policies, event.generation) == (
        "y/a", "x/a", "ingress", ("x/server",), 4)
    assert event.reason == "ingress at x/a: denied — isolated by x/server; no rule admits y/a"
    assert event.to_json()["time"] == "2023-11-14T22:13:20.250Z"


def test_an_outside_host_is_named_by_its_address() -> None:
    event = attribute(Engine(CLUSTER), packet("10.7.1.2", "192.0.2.9"),
                      LogPrefix("drop", "egress", 1))
    assert (event.src, event.dst, event.policies) == ("x/b", "192.0.2.9", ("x/client",))
    assert event.reason.endswith("no rule admits 192.0.2.9")


def test_icmp_has_no_port_but_its_isolation_is_known() -> None:
    event = attribute(Engine(CLUSTER), packet("10.7.2.1", "10.7.1.1", "ICMP", None),
                      LogPrefix("drop", "ingress", 1))
    assert event.policies == ("x/server",) and event.port is None
    assert "isolated by x/server; no rule admits y/a" in event.reason


def test_an_allow_names_the_admitting_rules_of_both_sides() -> None:
    event = attribute(Engine(CLUSTER), packet("10.7.1.2", "10.7.1.1"),
                      LogPrefix("allow", "ingress", 1))
    assert event.rules == ("x/client egress[0]", "x/server ingress[0]")
    assert event.policies == ("x/client", "x/server")


def test_a_drop_the_model_allows_says_they_disagree() -> None:
    event = attribute(Engine(CLUSTER), packet("10.7.1.2", "10.7.1.1"),
                      LogPrefix("drop", "ingress", 1))
    assert "disagree" in event.reason


def test_an_unknown_generation_is_attributed_by_address_only() -> None:
    event = attribute(None, packet("10.7.1.2", "10.7.1.1"), LogPrefix("drop", "ingress", 9))
    assert (event.src, event.policies) == ("10.7.1.2", ())
    assert "generation 9 is no longer known" in event.reason


def test_generations_keep_the_last_few_and_judge_each_by_its_own() -> None:
    other = with_pods("")
    loads: list[int] = []

    def load(generation: int) -> object:
        loads.append(generation)
        return None if generation > 20 else (CLUSTER if generation % 2 else other)

    gens = Generations(load, keep=2)  # type: ignore[arg-type]
    assert gens.engine(21) is None
    first, second = gens.engine(1), gens.engine(2)
    assert first is not None and second is not None and first is not second
    assert gens.engine(1) is first and loads == [21, 1, 2]  # cached
    gens.engine(3)  # evicts 2: 1 was used since
    gens.engine(1)
    assert loads == [21, 1, 2, 3]
    gens.engine(2)  # loaded again, evicting 3
    gens.engine(3)
    assert loads == [21, 1, 2, 3, 2, 3]
    pkt = packet("10.7.2.1", "10.7.1.1")
    judged = gens.attribute(pkt, LogPrefix("drop", "ingress", 1), gens.engine(1))
    assert judged.policies == ("x/server",)
    assert gens.attribute(pkt, LogPrefix("drop", "ingress", 2), gens.engine(2)).policies == ()


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("10m", 600), ("1h30m", 5400),
                                                ("2d", 172800), ("250ms", 0.25)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "m5", "1h 30m", "-1s"])
def test_bad_durations_say_how(text: str) -> None:
    with pytest.raises(InputError, match=r"e\.g\. 30s"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["127.0.0.1", "localhost:x", ":80", "1.2.3.4:70000"])
def test_bad_metrics_addresses(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        split_address(text)


def test_split_address() -> None:
    assert split_address("[::1]:9617") == ("::1", 9617)
    assert split_address("127.0.0.1:0") == ("127.0.0.1", 0)


def _event(seconds: float, src: str = "x/a") -> dict[str, object]:
    return Event(seconds, "drop", "egress", src, "y/a", "1", "2", "TCP", 80, 1,
                 ("x/p",), (), "why").to_json()


def _store(tmp_path: Path) -> Store:
    root = tmp_path / "labs"
    store = Store(root, "l")
    store.ensure()
    return store


def test_events_are_read_rotated_first_and_since_a_time(tmp_path: Path) -> None:
    store = _store(tmp_path)
    now = time.time()
    store.write(ROTATED, json.dumps(_event(now - 3600, "x/old")) + "\n")
    store.write(EVENTS, json.dumps(_event(now - 5)) + "\n" + json.dumps(_event(now)) + "\n"
                + '{"partial": ')  # a line being written is not read yet
    assert [e["src"] for e in read_events(store)] == ["x/old", "x/a", "x/a"]
    assert len(list(read_events(store, since_time(60)))) == 2
    assert len(list(read_events(store, since_time(1)))) == 1
    assert event_text(_event(0)) == "1970-01-01T00:00:00.000Z DROP  x/a -> y/a TCP/80 g1: why"


def test_follow_sees_new_events_and_rotation(tmp_path: Path) -> None:
    store = _store(tmp_path)
    path = store.path(EVENTS)
    path.write_text(json.dumps(_event(1, "x/1")) + "\n")
    os.chmod(path, 0o600)
    alive = threading.Event()
    alive.set()
    seen: list[str] = []

    def run() -> None:
        for event in follow(store, poll=0.02, alive=alive.is_set):
            seen.append(str(event["src"]))

    thread = threading.Thread(target=run)
    thread.start()
    try:
        time.sleep(0.1)
        with path.open("a") as out:
            out.write(json.dumps(_event(2, "x/2")) + "\n")
        time.sleep(0.1)
        with path.open("a") as out:
            out.write(json.dumps(_event(3, "x/3")) + "\n")
        os.replace(path, store.path(ROTATED))  # the collector rotates
        path.write_text(json.dumps(_event(4, "x/4")) + "\n")
        os.chmod(path, 0o600)
        time.sleep(0.2)
    finally:
        alive.clear()
        thread.join(timeout=5)
    assert seen == ["x/1", "x/2", "x/3", "x/4"]


def test_an_events_file_others_may_write_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.write(EVENTS, "")
    os.chmod(store.path(EVENTS), 0o666)
    with pytest.raises(UnsafeStateError, match="writable by others"):
        list(read_events(store))


def test_metrics_count_per_pod_policy_and_rule() -> None:
    metrics = Metrics(lambda: {("x/a", "ingress"): 7}, lambda: 2,
                      lambda: {"generation": 3, "applies": 3, "applySeconds": 0.5,
                               "failures": 1})
    drop = attribute(Engine(CLUSTER), packet("10.7.2.1", "10.7.1.1"),
                     LogPrefix("drop", "ingress", 3))
    allow = attribute(Engine(CLUSTER), packet("10.7.1.2", "10.7.1.1"),
                      LogPrefix("allow", "ingress", 3))
    for event in (drop, drop, allow):
        metrics.observe(event)
    text = metrics.text().decode()
    for line in ('podwall_dropped_packets_total{direction="ingress",pod="x/a"} 7.0',
                 'podwall_logged_drops_total{action="drop",direction="ingress",pod="x/a"} 2.0',
                 'podwall_policy_drops_total{action="drop",direction="ingress",policy="x/server"} 2.0',
                 'podwall_allowed_connections_total{policy="x/server",rule="x/server ingress[0]"} 1.0',
                 "podwall_spoofed_packets_total 2.0", "podwall_ruleset_generation 3.0",
                 "podwall_ruleset_apply_seconds_count 3.0", "podwall_ruleset_apply_seconds_sum 0.5",
                 "podwall_ruleset_apply_failures_total 1.0", "podwall_log_newest_generation 3.0"):
        assert line in text.splitlines(), line


@pytest.mark.parametrize("verb", [["logs"], ["logs", "-f"], ["metrics"]])
def test_verbs_on_a_lab_that_is_not_up_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              verb: list[str]) -> None:
    from click.testing import CliRunner

    from podwall.cli.main import cli

    monkeypatch.setenv("PODWALL_LAB_STATE", str(tmp_path / "labs"))
    result = CliRunner().invoke(cli, ["lab", *verb, "--name", "nope"])
    assert result.exit_code == 2 and "no lab named 'nope' is up" in result.output
    assert "Traceback" not in result.output


def test_lab_up_refuses_a_bad_metrics_address_before_anything(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              ) -> None:
    from click.testing import CliRunner

    from podwall.cli.main import cli

    monkeypatch.setenv("PODWALL_LAB_STATE", str(tmp_path / "labs"))
    examples = Path(__file__).resolve().parents[2] / "examples" / "three-tier"
    result = CliRunner().invoke(cli, ["lab", "up", str(examples), "--name", "nope",
                                      "--metrics-address", "9617"])
    assert result.exit_code == 2, result.output
    assert ("--metrics-address: '9617' is not HOST:PORT" in result.output
            or "needs root" in result.output)
    assert not (tmp_path / "labs" / "nope").exists()


def test_an_audit_event_names_the_audited_policies_that_would_deny_it() -> None:
    from podwall.manifests.load import load_cluster
    audit = Path(__file__).parents[1] / "fixtures" / "manifests" / "audit"
    engine = Engine(load_cluster([str(audit)]).cluster)
    web, db = (str(engine.cluster.endpoint(k).ip) for k in ("shop/web", "shop/db"))  # type: ignore[union-attr]
    event = attribute(engine, packet(db, web), LogPrefix("audit", "ingress", 3))
    assert (event.action, event.src, event.dst, event.policies) == (
        "audit", "shop/db", "shop/web", ("shop/deny-all",))
    assert event.reason == ("ingress at shop/web: denied — isolated by shop/deny-all; no rule "
                            "admits shop/db (under audit: allowed now, not enforced)")
    # the same packet as a drop is judged by the enforced view, where nothing isolates web
    assert attribute(engine, packet(db, web), LogPrefix("drop", "ingress", 3)).policies == ()


# -- the cluster-admin tiers: the deciding tier, policy, priority and rule ---------------------
def tiered() -> Engine:
    from tests.lab.test_tier_lab import TIERS

    return Engine(with_pods(TIERS))


def test_an_admin_deny_names_its_policy_priority_and_rule() -> None:
    event = attribute(tiered(), packet("10.7.1.2", "10.7.2.1"),
                      LogPrefix("drop", "ingress", 2, "y", "admin"))
    assert (event.src, event.dst, event.direction) == ("x/b", "y/a", "ingress")
    assert event.policies == ("admin/deny-x-to-y",)
    assert event.rules == ("admin/deny-x-to-y ingress[1] (others-not)",)
    assert event.reason == ("ingress at y/a: denied — Deny in admin/deny-x-to-y ingress[1] "
                            "(others-not) at priority 10 (Admin tier)")
    assert event.to_json()["tier"] == {
        "decidedBy": "admin", "passed": [], "kernel": "admin",
        "rule": {"policy": "admin/deny-x-to-y", "tier": "admin", "priority": 10,
                 "direction": "ingress", "rule": 1, "action": "Deny", "name": "others-not"}}


def test_a_pass_then_a_networkpolicy_drop_names_both() -> None:
    event = attribute(tiered(), packet("10.7.1.1", "10.7.2.1", port=81),
                      LogPrefix("drop", "ingress", 2, "y"))
    assert event.policies == ("y/only-web-and-dns",) and event.rules == ()
    assert event.reason == ("ingress at y/a: denied — Pass in admin/deny-x-to-y ingress[0] "
                            "(a-may) at priority 10, then isolated by NetworkPolicy "
                            "y/only-web-and-dns; no rule admits x/a")
    tier = event.to_json()["tier"]
    assert (tier["decidedBy"], tier["rule"], tier["kernel"]) == ("networkpolicy", None, None)
    assert [(r["policy"], r["rule"], r["action"]) for r in tier["passed"]] == [
        ("admin/deny-x-to-y", 0, "Pass")]


def test_a_baseline_deny_names_its_rule_after_the_pass() -> None:
    event = attribute(tiered(), packet("10.7.1.1", "10.7.2.2", "UDP", 53),
                      LogPrefix("drop", "ingress", 2, "y", "baseline"))
    assert event.policies == ("baseline/y-baseline",)
    assert event.rules == ("baseline/y-baseline ingress[0]",)
    assert event.reason.endswith("Deny in baseline/y-baseline ingress[0] at priority 1 "
                                 "(Baseline tier)")
    assert "disagree" not in event.reason
    assert event.to_json()["tier"]["rule"]["tier"] == "baseline"
    # the event reads the same in `lab logs` text
    assert event_text(event.to_json()).endswith(event.reason)


def test_a_kernel_tier_other_than_the_deciding_rule_says_they_disagree() -> None:
    wrong = attribute(tiered(), packet("10.7.1.2", "10.7.2.1"),
                      LogPrefix("drop", "ingress", 2, "y", "baseline"))
    assert "the baseline tier dropped it" in wrong.reason.replace("a Deny of ", "")
    assert "disagree" in wrong.reason
    untiered = attribute(tiered(), packet("10.7.1.2", "10.7.2.1"),
                         LogPrefix("drop", "ingress", 2, "y"))
    assert "a NetworkPolicy chain" in untiered.reason and "disagree" in untiered.reason
    np_drop = attribute(tiered(), packet("10.7.1.1", "10.7.2.1", port=81),
                        LogPrefix("drop", "ingress", 2, "y", "admin"))
    assert "disagree" in np_drop.reason


def test_an_allow_names_the_admin_accept_that_admitted_it() -> None:
    event = attribute(tiered(), packet("10.7.2.2", "192.0.2.10"),
                      LogPrefix("allow", "egress", 2))
    assert event.rules == ("admin/outside egress[0]",)
    assert event.policies == ("admin/outside",)
    assert event.to_json()["tier"]["decidedBy"] == "admin"


def test_without_cluster_policies_the_tier_is_null() -> None:
    event = attribute(Engine(CLUSTER), packet("10.7.2.1", "10.7.1.1"),
                      LogPrefix("drop", "ingress", 4))
    assert event.to_json()["tier"] is None


def test_metrics_count_a_tier_drop_under_its_deciding_policy() -> None:
    metrics = Metrics(lambda: {}, lambda: 0, lambda: {})
    event = attribute(tiered(), packet("10.7.1.2", "10.7.2.1"),
                      LogPrefix("drop", "ingress", 2, "y", "admin"))
    metrics.observe(event)
    assert ('podwall_policy_drops_total{action="drop",direction="ingress",'
            'policy="admin/deny-x-to-y"} 1.0') in metrics.text().decode()
