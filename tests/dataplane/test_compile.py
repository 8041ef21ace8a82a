"""The compiler, against the in-memory backend and (when present) `nft -c` for syntax."""

from __future__ import annotations

import ipaddress
import re
import shutil
from pathlib import Path

import pytest

from podwall.dataplane import MemoryBackend, NftBackend, compile_ruleset
from podwall.dataplane.backend import transaction
from podwall.dataplane.compile import block_networks
from podwall.engine import Engine
from podwall.errors import DataplaneError
from podwall.manifests import load_cluster
from podwall.model import IPBlock
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())


def compiled(example: str):  # type: ignore[no-untyped-def]
    engine = Engine(load_cluster([str(ROOT / "examples" / example)]).cluster)
    interfaces = {ep.key: f"p{i}" for i, ep in enumerate(engine.cluster.endpoints)}
    return compile_ruleset(engine, interfaces)


@pytest.mark.parametrize("example", EXAMPLES)
def test_golden_rulesets(example: str) -> None:
    assert_golden(f"dataplane/{example}.nft", compiled(example).text)


@pytest.mark.skipif(shutil.which("nft") is None, reason="nft is not installed")
@pytest.mark.parametrize("example", EXAMPLES)
def test_nft_accepts_every_example(example: str) -> None:
    try:
        NftBackend().check(compiled(example))
    except DataplaneError as exc:
        if "Operation not permitted" in str(exc):
            pytest.skip("nft -c needs CAP_NET_ADMIN here")
        raise


def test_except_is_carved_out_exactly() -> None:
    block = IPBlock(ipaddress.ip_network("10.0.0.0/8"),
                    (ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("10.2.3.0/24")))
    nets = block_networks(block)
    inside = [n for n in nets if ipaddress.ip_address("10.1.2.3") in n]
    assert not inside
    assert any(ipaddress.ip_address("10.2.4.1") in n for n in nets)
    assert not any(ipaddress.ip_address("10.2.3.9") in n for n in nets)
    total = sum(n.num_addresses for n in nets)
    assert total == 2**24 - 2**16 - 2**8


def test_non_isolated_pods_have_no_chain_and_isolated_ones_end_in_counted_drop() -> None:
    text = compiled("three-tier").text
    assert "pod-0-" not in text  # kube-system/coredns: no policy selects it
    for chain in re.findall(r"chain (pod-\d+-(?:in|out)) \{(.*?)\n  \}", text, re.S):
        body = chain[1]
        assert body.rstrip().endswith(f"counter name drop-{chain[0][4:]} drop")
        assert "log prefix \"pw-drop" in body and "limit rate" in body
        assert "reject" not in body


def test_egress_chains_return_so_ingress_is_still_checked() -> None:
    text = compiled("three-tier").text
    out_chains = re.findall(r"chain pod-\d+-out \{(.*?)\n  \}", text, re.S)
    assert out_chains and all(" accept" not in c for c in out_chains)
    assert "ct state established,related accept" in text.split("chain forward")[1]


def test_size_grows_with_pods_not_pairs() -> None:
    def cluster_text(n: int) -> str:
        pods = "".join(
            f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: a, "
            f"labels: {{app: a{i % 5}}}}}\n" for i in range(n))
        pol = ("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
               "metadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  ingress:\n"
               "  - from: [{podSelector: {matchLabels: {app: a1}}}]\n")
        return pods + pol

    sizes = []
    for n in (20, 40, 80):
        engine = Engine(load_cluster(["-"], stdin_text=cluster_text(n)).cluster)
        rs = compile_ruleset(engine, {ep.key: f"p{i}" for i, ep in enumerate(engine.cluster.endpoints)})
        sizes.append(rs.rules + rs.set_elements)
    # doubling pods roughly doubles the size (linear), it does not quadruple it
    assert sizes[2] / sizes[1] < 2.5 and sizes[1] / sizes[0] < 2.5


def test_memory_backend_keeps_the_previous_ruleset_when_an_apply_fails() -> None:
    backend = MemoryBackend()
    first = compiled("three-tier")
    backend.apply(first)
    backend.fail_next = "syntax error"
    with pytest.raises(DataplaneError, match="syntax error"):
        backend.apply(compiled("three-tier-v2"))
    assert backend.current == first.text


def test_the_transaction_replaces_the_whole_table() -> None:
    text = transaction(compiled("three-tier"))
    assert text.startswith("add table inet podwall\ndelete table inet podwall\ntable inet podwall {")
