"""The nft backend against the kernel, inside a throwaway namespace (root only)."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.dataplane import NftBackend, Ruleset, compile_ruleset
from podwall.engine import Engine
from podwall.errors import DataplaneError
from podwall.manifests import load_cluster

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count()


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"pw-tdp{os.getpid()}-{next(_names)}"  # two test sessions never collide
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def ruleset(example: str) -> Ruleset:
    engine = Engine(load_cluster([str(ROOT / "examples" / example)]).cluster)
    return compile_ruleset(engine, {ep.key: f"pw-p{i}"
                                    for i, ep in enumerate(engine.cluster.endpoints)})


def test_apply_replaces_the_table_and_a_refused_ruleset_leaves_the_previous_one(netns: str) -> None:
    backend = NftBackend(netns=netns)
    assert backend.current() is None
    assert backend.apply(ruleset("three-tier")) == 1  # the generation its log prefixes carry
    first = backend.current()
    db = "pods-in/shop/db-allow-api_default-deny"  # the ingress chain the db pod alone has
    assert first is not None and f"chain {db}.g1" in first
    assert backend.apply(ruleset("three-tier")) == 2  # replacing: the next generation
    second = backend.current()
    assert second is not None and f"chain {db}.g2" in second and ".g1" not in second
    # every name and every log prefix now says generation 2 (the prefix: `pw drop egress g2`)
    assert second == first.replace(".g1", ".g2").replace(" g1 ", " g2 ")
    broken = ruleset("three-tier-v2")
    assert f"jump {db}" in broken.template
    broken = Ruleset(broken.template.replace(f"jump {db}", "jump no-such-chain"),
                     broken.chains, broken.rules, broken.sets, broken.set_elements)
    with pytest.raises(DataplaneError) as caught:
        backend.apply(broken)
    message = str(caught.value)
    assert "previous ruleset is still in place" in message and "no-such-chain" in message
    assert backend.current() == second  # nothing of the failed transaction landed
    backend.remove()
    assert backend.current() is None
    backend.remove()  # idempotent


def test_check_validates_without_changing_anything(netns: str) -> None:
    backend = NftBackend(netns=netns)
    backend.check(ruleset("namespace-isolation"))
    assert backend.current() is None
    with pytest.raises(DataplaneError, match="nft rejects the ruleset"):
        backend.check(Ruleset("table inet podwall { chain c { bogus } }\n", 1, 1, 0, 0))


def test_drop_counters_are_named_per_pod_and_direction(netns: str) -> None:
    backend = NftBackend(netns=netns)
    compiled = ruleset("three-tier")
    backend.apply(compiled)
    counters = backend.counters()
    assert set(counters) == {"spoofed"} | {c.name for c in compiled.counters}
    assert "drop-in/shop/db" in counters
    assert all(v.packets == 0 and v.bytes == 0 for v in counters.values())
    # a pod that is no longer isolated loses its counters with the swap; the others stay
    fewer = ruleset("namespace-isolation")
    backend.apply(fewer)
    assert set(backend.counters()) == {"spoofed"} | {c.name for c in fewer.counters}


def load(netns: str, table: str) -> None:
    """Put a table of another podwall layout in place, as an older version left it."""
    subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=table, text=True,
                   check=True)


def test_a_table_of_the_older_two_base_chain_layout_is_taken_over(netns: str) -> None:
    backend = NftBackend(netns=netns)
    old = ("table inet podwall {\n  set s { type ipv4_addr; elements = { 10.0.0.1 } }\n"
           "  chain egress { type filter hook forward priority filter; policy accept;\n"
           "    ip daddr @s drop\n  }\n"
           "  chain ingress { type filter hook forward priority filter + 1; policy accept; }\n}\n")
    load(netns, old)
    backend.apply(ruleset("three-tier"))
    objects = backend.objects()
    assert "egress" not in objects.chains and "ingress" not in objects.chains
    assert "s" not in objects.sets and objects.generation == 1


def test_a_table_of_the_per_pod_chain_layout_loses_its_stale_counters(netns: str) -> None:
    # The layout before shared chains: one chain per pod, counters named in the rules, no
    # counter maps to tell which counters are in use: the backend lists the counters instead.
    old = ("table inet podwall {\n  counter drop-in/gone/pod { }\n  counter drop-in/shop/db { }\n"
           "  chain pod-in/gone/pod.g4 {\n    counter name drop-in/gone/pod drop\n  }\n"
           "  chain forward { type filter hook forward priority filter; policy accept;\n"
           "    oifname \"pw-x\" jump pod-in/gone/pod.g4\n  }\n}\n")
    load(netns, old)
    backend = NftBackend(netns=netns)
    assert set(backend.objects().counters) == {"drop-in/gone/pod", "drop-in/shop/db"}
    compiled = ruleset("three-tier")
    backend.apply(compiled)
    assert set(backend.counters()) == {"spoofed"} | {c.name for c in compiled.counters}
    objects = backend.objects()
    assert objects.generation == 5 and "pod-in/gone/pod.g4" not in objects.chains
    # from now on the counter maps tell which counters are in use
    assert objects.counter_maps and set(objects.counters) == {c.name for c in compiled.counters}


def test_the_machines_own_ruleset_is_not_touched(netns: str) -> None:
    before = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True,
                            check=True).stdout
    NftBackend(netns=netns).apply(ruleset("three-tier"))
    after = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True,
                           check=True).stdout
    assert before == after
