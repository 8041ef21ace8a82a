"""Audit mode in the compiled ruleset: audited policies log and accept, never drop."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.dataplane import NftBackend, compile_ruleset
from podwall.dataplane.compile import is_counter_map, is_drop_counter
from podwall.dataplane.logprefix import log_prefix
from podwall.engine import Engine
from podwall.manifests import load_cluster
from podwall.model import Direction
from tests.dataplane.test_compile import admits, chains, every_pod, port_verdict

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / "tests" / "fixtures" / "manifests" / "audit"
THREE_TIER = ROOT / "examples" / "three-tier"


def ruleset_text(path: Path) -> str:
    engine = Engine(load_cluster([str(path)]).cluster)
    return compile_ruleset(engine, every_pod(engine)).text


def test_audited_policies_never_reach_a_drop() -> None:
    text = ruleset_text(AUDIT)
    found = chains(text)
    audit_chains = {name: body for name, body in found.items() if name.startswith("audit")}
    assert set(audit_chains) >= {"audit", "audit-egress-admitted",
                                 "audit-pods-in/shop/deny-all",
                                 "audit-pods-in/shop/db-allow-80_db-allow-web_deny-all"}
    for name, body in audit_chains.items():
        assert not any(line.endswith(" drop") for line in body), (name, body)
    assert found["audit-pods-in/shop/deny-all"] == [
        'limit rate 100/second burst 200 packets log group 100 prefix '
        '"pw audit ingress gN shop"',
        "counter name oifname map @audit-in-counters accept"]
    # db-allow-80 (audited: a port open to everyone) accepts in the audit view
    assert port_verdict(text, "audit-pods-in/shop/db-allow-80_db-allow-web_deny-all",
                        "tcp", 80) == "accept"
    # the enforced view knows only db-allow-web: deny-all and db-allow-80 isolate nothing there
    assert not any("deny-all" in name or "db-allow-80" in name
                   for name in found if not name.startswith("audit"))


def test_every_enforced_accept_of_a_new_connection_meets_the_audit_view() -> None:
    text = ruleset_text(AUDIT)
    found = chains(text)
    assert found["forward"][-1] == "goto audit"
    assert found["egress-admitted"][-1] == "goto audit"
    web = "10.244.35.18"
    assert admits(text, "pods-in/shop/db-allow-web", "tcp", 5432, web) == "goto audit"
    assert found["audit"] == ["iifname vmap @audit-egress-by-if",
                              "oifname vmap @audit-ingress-by-if", "accept"]


def test_without_audited_policies_there_is_no_audit_path() -> None:
    text = ruleset_text(THREE_TIER)
    assert "audit" not in text


def test_audit_counters_are_counted_and_cleaned_like_drop_counters() -> None:
    engine = Engine(load_cluster([str(AUDIT)]).cluster)
    ruleset = compile_ruleset(engine, every_pod(engine))
    assert {(c.name, c.action) for c in ruleset.counters} == {
        ("drop-in/shop/db", "drop"), ("audit-in/shop/db", "audit"),
        ("audit-in/shop/web", "audit")}
    assert is_drop_counter("audit-in/shop/db") and is_counter_map("audit-in-counters.g3")
    assert log_prefix("shop", Direction.EGRESS, "audit") == "pw audit egress g@GEN@ shop"
    assert log_prefix("shop", Direction.EGRESS) == "pw drop egress g@GEN@ shop"


@pytest.mark.kernel
def test_the_kernel_accepts_the_audit_ruleset() -> None:
    engine = Engine(load_cluster([str(AUDIT)]).cluster)
    NftBackend().check(compile_ruleset(engine, every_pod(engine)))


def test_the_summary_counts_the_audit_path_too() -> None:
    engine = Engine(load_cluster([str(AUDIT)]).cluster)
    ruleset = compile_ruleset(engine, every_pod(engine))
    found = chains(ruleset.text)
    assert ruleset.chains == len(found) == ruleset.text.count("\n  chain ")
    assert ruleset.rules == sum(len([line for line in body if not line.startswith("type ")])
                                for body in found.values())
    # by interface (4 per view), and the audit view's port map (TCP/80, open to everyone; the
    # enforced view's TCP/5432 from web is one address: its exact set, no map)
    assert ruleset.maps == 8 + 1
