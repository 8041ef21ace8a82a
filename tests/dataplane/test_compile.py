"""The compiler, against the in-memory backend, golden rulesets and (as root) `nft -c`."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from podwall.dataplane import MemoryBackend, NftBackend, Ruleset, compile_ruleset
from podwall.dataplane.addresses import block_networks
from podwall.dataplane.backend import TableObjects, cleanup, transaction
from podwall.dataplane.compile import (
    COMMENT_MAX,
    NAME_MAX,
    counter_name,
    is_drop_counter,
    nft_name,
    selection_chain_name,
)
from podwall.dataplane.dispatch import EXACT_PEERS
from podwall.dataplane.logprefix import LOG_PREFIX_MAX
from podwall.engine import Engine
from podwall.errors import DataplaneError, QueryError
from podwall.manifests import load_cluster
from podwall.model import Direction, IPBlock
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())


def engine_of(text: str) -> Engine:
    result = load_cluster(["-"], stdin_text=text)
    errors = [str(d) for d in result.diagnostics if d.severity.name == "ERROR"]
    assert not errors, errors
    return Engine(result.cluster)


def every_pod(engine: Engine) -> dict[str, str]:
    return {ep.key: f"pw-p{i}" for i, ep in enumerate(engine.cluster.endpoints)}


def compiled(example: str) -> Ruleset:
    engine = Engine(load_cluster([str(ROOT / "examples" / example)]).cluster)
    return compile_ruleset(engine, every_pod(engine))


def chains(text: str) -> dict[str, list[str]]:
    found = re.findall(r"^  chain (\S+) \{\n(.*?)\n  \}$", text, re.S | re.M)
    return {name: [line.strip() for line in body.splitlines()
                   if line.strip() and not line.strip().startswith("#")]
            for name, body in found}


def pod(name: str, ns: str, ip: str, labels: str = "{}", ports: str = "") -> str:
    spec = f"spec:\n  containers:\n  - name: c\n    ports:\n{ports}" if ports else ""
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, "
            f"labels: {labels}}}\n{spec}status: {{podIP: '{ip}'}}\n")


# A small case that touches every feature: dual stack, ipBlock with except (v4 and v6), named
# ports (ingress and egress, TCP and UDP), endPort, a port without number, a rule without peers.
FEATURES = "---\n".join([
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {team: blue}}\n",
    pod("web", "a", "10.1.0.1", "{app: web}",
        "    - {name: http, containerPort: 8080}\n    - {name: dns, containerPort: 53, "
        "protocol: UDP}\n"),
    pod("db", "a", "10.1.0.2", "{app: db}", "    - {name: http, containerPort: 9090}\n"),
    pod("v6", "a", "fd00::2", "{app: v6}", "    - {name: http, containerPort: 80}\n"),
    pod("other", "b", "10.2.0.1", "{app: web}"),
    """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: a}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {}
    - namespaceSelector: {matchLabels: {team: blue}}
      podSelector: {matchLabels: {app: web}}
    - ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}
    - ipBlock: {cidr: 'fd00::/64', except: ['fd00::/120']}
    ports: [{port: http}, {port: 7000, endPort: 7010}, {protocol: UDP}]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}, {podSelector: {matchLabels: {app: v6}}}]
    ports: [{port: http}, {protocol: UDP, port: dns}, {port: 5432}]
  - ports: [{protocol: UDP, port: 53}]
""",
])


@pytest.mark.parametrize("example", EXAMPLES)
def test_golden_rulesets(example: str) -> None:
    assert_golden(f"dataplane/{example}.nft", compiled(example).text)


def test_golden_features() -> None:
    engine = engine_of(FEATURES)
    assert_golden("dataplane/features.nft", compile_ruleset(engine, every_pod(engine)).text)


@pytest.mark.kernel
@pytest.mark.parametrize("example", [*EXAMPLES, "features", "long-names"])
def test_the_kernel_accepts_every_ruleset(example: str) -> None:
    """`nft -c` (needs CAP_NET_ADMIN): the kernel's own parser and limits, nothing changed."""
    if example == "features":
        engine = engine_of(FEATURES)
        ruleset = compile_ruleset(engine, every_pod(engine))
    elif example == "long-names":
        ruleset = long_names_ruleset()
    else:
        ruleset = compiled(example)
    NftBackend().check(ruleset)


def test_except_is_carved_out_exactly() -> None:
    block = IPBlock(ipaddress.ip_network("10.0.0.0/8"),
                    (ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("10.2.3.0/24")))
    nets = block_networks(block)
    assert not [n for n in nets if ipaddress.ip_address("10.1.2.3") in n]
    assert any(ipaddress.ip_address("10.2.4.1") in n for n in nets)
    assert not any(ipaddress.ip_address("10.2.3.9") in n for n in nets)
    assert sum(n.num_addresses for n in nets) == 2**24 - 2**16 - 2**8
    six = IPBlock(ipaddress.ip_network("fd00::/64"), (ipaddress.ip_network("fd00::/120"),))
    assert sum(n.num_addresses for n in block_networks(six)) == 2**64 - 2**8
    # an except outside the cidr, or covering it, is handled too
    outside = IPBlock(ipaddress.ip_network("10.0.0.0/24"), (ipaddress.ip_network("11.0.0.0/8"),))
    assert block_networks(outside) == [ipaddress.ip_network("10.0.0.0/24")]
    covering = IPBlock(ipaddress.ip_network("10.0.0.0/24"), (ipaddress.ip_network("10.0.0.0/16"),))
    assert block_networks(covering) == []


def port_verdict(text: str, chain: str, protocol: str, port: int) -> str | None:
    """What the port map of selection chain `chain` gives `protocol`/`port` (None: nothing)."""
    body = chains(text)[chain]
    maps = [line.split("@")[1] for line in body
            if line.startswith(f"meta l4proto {protocol} th dport vmap @")]
    assert len(maps) <= 1, body
    if not maps:
        return None
    elements = re.search(rf"map {re.escape(maps[0])} \{{.*elements = \{{ (.*) \}} \}}", text)
    assert elements is not None
    for element in elements.group(1).split(", "):
        ports, verdict = element.split(" : ")
        low, _, high = ports.partition("-")
        if int(low) <= port <= int(high or low):
            return verdict
    return None


def set_elements(text: str, name: str) -> str:
    found = re.search(rf"set {re.escape(name)} \{{.*elements = \{{ (.*) \}} \}}", text)
    assert found is not None, name
    return found.group(1)


def _in_set(text: str, name: str, address: str) -> bool:
    value = ipaddress.ip_address(address)
    for element in set_elements(text, name).split(", "):
        low, _, high = element.partition("-")
        if "/" in element:
            if value in ipaddress.ip_network(element):
                return True
        elif ipaddress.ip_address(low).version == value.version and (
                ipaddress.ip_address(low) <= value <= ipaddress.ip_address(high or low)):
            return True
    return False


def admits(text: str, chain: str, protocol: str, port: int, address: str) -> str | None:
    """What selection chain `chain` does with a first packet to (egress) or from (ingress)
    `address` on `protocol`/`port`: the admitting verdict, or None (it falls to the drop). A
    reading of the compiled text, line by line as the kernel would, so tests do not depend on
    which of the exact set, the port map or the rules without ports decides."""
    family = "ip" if ipaddress.ip_address(address).version == 4 else "ip6"
    for line in chains(text)[chain]:
        exact = re.fullmatch(r"(ip6?) [sd]addr \. meta l4proto \. th dport @(\S+) (.*)", line)
        peers = re.fullmatch(r"(ip6?) [sd]addr @(\S+) (.*)", line)
        if exact is not None:
            if exact.group(1) == family and f"{address} . {protocol} . {port}" in set_elements(
                    text, exact.group(2)).split(", "):
                return exact.group(3)
        elif line.startswith(f"meta l4proto {protocol} th dport vmap "):
            verdict = port_verdict(text, chain, protocol, port)
            if verdict is None or not verdict.startswith("jump "):
                if verdict is not None:
                    return verdict
                continue
            for rule in chains(text)[verdict.removeprefix("jump ")]:
                match = re.fullmatch(r"(ip6?) [sd]addr @(\S+) (.*)", rule)
                assert match is not None, rule
                if match.group(1) == family and _in_set(text, match.group(2), address):
                    return match.group(3)
        elif (peers is not None and peers.group(1) == family
              and _in_set(text, peers.group(2), address)):
            return peers.group(3)
    return None


def test_peer_sets_hold_exactly_the_matching_addresses() -> None:
    engine = engine_of(FEATURES)
    text = compile_ruleset(engine, every_pod(engine)).text
    # every port of the ingress rule (a named port, a range, every UDP port) admits the same
    # peers: one chain, one set per IP version
    verdicts = {port_verdict(text, "pods-in/a/web", protocol, port)
                for protocol, port in (("tcp", 8080), ("tcp", 7000), ("tcp", 7010), ("udp", 1))}
    assert len(verdicts) == 1
    admit = verdicts.pop()
    assert admit is not None and admit.startswith("jump admit-in-")
    policy = chains(text)[admit.removeprefix("jump ")]
    assert len(policy) == 2
    v4 = re.fullmatch(r"ip saddr @(\S+) accept", policy[0])
    assert v4 is not None
    # pods of a (own namespace) and web pods of blue namespaces, 192.0.2.0/25 (not the except)
    assert set_elements(text, v4.group(1)) == "10.1.0.1-10.1.0.2, 192.0.2.0/25"
    v6 = re.fullmatch(r"ip6 saddr @(\S+) accept", policy[1])
    assert v6 is not None
    six = set_elements(text, v6.group(1))
    assert "fd00::100-fd00::ffff:ffff:ffff:ffff" in six
    assert "fd00::2," in six or six.startswith("fd00::2")
    # ports that no rule names have no element: they fall through to the drop
    for protocol, port in (("tcp", 6999), ("tcp", 7011), ("tcp", 9090), ("sctp", 80)):
        assert port_verdict(text, "pods-in/a/web", protocol, port) is None


def test_named_ports_resolve_on_each_destination() -> None:
    engine = engine_of(FEATURES)
    text = compile_ruleset(engine, every_pod(engine)).text
    # ingress: the destination is the chain's own pod: web's http is 8080 (db's 9090 is not)
    assert port_verdict(text, "pods-in/a/web", "tcp", 8080) is not None
    assert port_verdict(text, "pods-in/a/web", "tcp", 9090) is None
    # egress: each destination inside the rule's peers where the name resolves, at its number
    out = "pods-out/a/web"
    assert admits(text, out, "tcp", 9090, "10.1.0.2") == "goto egress-admitted"  # db, a peer
    assert admits(text, out, "tcp", 8080, "10.1.0.1") is None  # web's own http: web is no peer
    assert admits(text, out, "tcp", 9090, "10.1.0.1") is None
    assert admits(text, out, "tcp", 80, "fd00::2") == "goto egress-admitted"  # v6's http
    assert admits(text, out, "tcp", 80, "10.1.0.2") is None
    for address in ("10.1.0.2", "fd00::2"):  # a number: every peer
        assert admits(text, out, "tcp", 5432, address) == "goto egress-admitted"
    assert admits(text, out, "tcp", 5432, "10.1.0.1") is None
    # one-port peers this small are written out: `address . protocol . port`, one lookup
    assert "10.1.0.2 . tcp . 9090" in text and "fd00::2 . tcp . 80" in text
    # UDP/dns resolves only on web, which is no peer; UDP/53 to anyone comes from the
    # second rule, which has no peers: straight to the destination's ingress
    assert port_verdict(text, out, "udp", 53) == "goto egress-admitted"
    assert admits(text, out, "udp", 54, "10.1.0.2") is None


def test_pods_that_resolve_a_named_port_differently_get_chains_of_their_own() -> None:
    docs = [pod(f"web-{i}", "a", f"10.1.0.{i + 10}", "{app: web}",
                f"    - {{name: http, containerPort: {8080 if i < 3 else 9090}}}\n")
            for i in range(5)]
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: web, namespace: a}\nspec:\n"
                "  podSelector: {matchLabels: {app: web}}\n"
                "  ingress: [{ports: [{port: http}]}]\n")
    engine = engine_of("---\n".join(docs))
    interfaces = every_pod(engine)
    text = compile_ruleset(engine, interfaces).text
    assert port_verdict(text, "pods-in/a/web", "tcp", 8080) == "accept"
    assert port_verdict(text, "pods-in/a/web", "tcp", 9090) is None
    assert port_verdict(text, "pods-in/a/web/2", "tcp", 9090) == "accept"
    assert port_verdict(text, "pods-in/a/web/2", "tcp", 8080) is None
    for i in range(5):
        chain = "pods-in/a/web" if i < 3 else "pods-in/a/web/2"
        assert f'"{interfaces[f"a/web-{i}"]}" : jump {chain},' in text.replace(" }", ", }")


def test_non_isolated_pods_have_no_chain_and_isolated_ones_end_in_a_counted_drop() -> None:
    engine = Engine(load_cluster([str(ROOT / "examples/three-tier")]).cluster)
    interfaces = every_pod(engine)
    ruleset = compile_ruleset(engine, interfaces)
    found = chains(ruleset.text)
    assert not [c for c in found if "coredns" in c]
    selections = {name: body for name, body in found.items() if name.startswith("pods-")}
    expected = {(ep.namespace, d, tuple(p.name for p in engine.selecting(ep, d)))
                for ep in engine.cluster.endpoints for d in Direction if engine.selecting(ep, d)}
    assert len(selections) == len(expected) > 0
    for name, body in selections.items():
        direction = "in" if name.startswith("pods-in/") else "out"
        where = "oifname" if direction == "in" else "iifname"
        assert body[-1] == f"counter name {where} map @drop-{direction}-counters drop"
        assert body[-2] == (f'limit rate 100/second burst 200 packets log group 100 prefix '
                            f'"pw drop {"ingress" if direction == "in" else "egress"} gN '
                            f'{name.split("/")[1]}"')
        assert body[:-2] and all(
            line.startswith(("meta l4proto ", "ip saddr ", "ip daddr ", "ip6 saddr ",
                             "ip6 daddr ")) for line in body[:-2])
    assert "reject" not in ruleset.text
    assert {(c.pod, c.direction) for c in ruleset.counters} == {
        (p, d) for p in ("shop/api", "shop/db", "shop/web") for d in Direction}
    # every isolated pod: its interface jumps to its selection's chain and counts into its own
    for c in ruleset.counters:
        short = "in" if c.direction is Direction.INGRESS else "out"
        assert f'"{interfaces[c.pod]}" : "drop-{short}/{c.pod}"' in ruleset.text
        endpoint = engine.cluster.endpoint(c.pod)
        assert endpoint is not None
        chain = selection_chain_name(endpoint.namespace,
                                     [p.name for p in engine.selecting(endpoint, c.direction)],
                                     c.direction)
        assert f'"{interfaces[c.pod]}" : jump {chain}' in ruleset.text


def replicas(count: int) -> str:
    """A namespace with a default-deny and `count` replicas of one workload and one client."""
    docs = [pod(f"web-{i}", "a", f"10.1.0.{i + 10}", "{app: web}") for i in range(count)]
    docs.append(pod("client", "a", "10.1.0.2", "{app: client}"))
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: deny, namespace: a}\nspec: {podSelector: {}, "
                "policyTypes: [Ingress, Egress]}\n")
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: web, namespace: a}\nspec:\n"
                "  podSelector: {matchLabels: {app: web}}\n"
                "  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], "
                "ports: [{port: 80}]}]\n")
    return "---\n".join(docs)


def test_pods_isolated_by_the_same_policies_share_their_chains() -> None:
    small, large = (compile_ruleset(e, every_pod(e))
                    for e in (engine_of(replicas(2)), engine_of(replicas(40))))
    # rules and chains follow the distinct selections (web: deny+web in, deny out; client: deny)
    assert small.rules == large.rules and small.chains == large.chains
    assert set(chains(large.text)) >= {"pods-in/a/deny_web", "pods-out/a/deny", "pods-in/a/deny"}
    # what grows is the per-pod map elements and counters: two maps per direction
    assert large.map_elements - small.map_elements == 38 * 2 * 2
    assert len(large.counters) - len(small.counters) == 38 * 2


def test_one_base_chain_checks_spoofing_then_conntrack_then_egress_then_ingress() -> None:
    found = chains(compiled("three-tier").text)
    assert [name for name in found if not name.startswith(("pods-", "admit-"))] == [
        "egress-admitted", "forward"]
    forward = found["forward"]
    assert forward[0] == "type filter hook forward priority filter; policy accept;"
    # the address family first: an IPv4 packet is spared the IPv6 rule's lookups; then the
    # pair a pod's own packets are in (one lookup), the interface set only for the rest
    assert forward[1].startswith("meta nfproto ipv4 iifname . ip saddr != @pod-sources4 ")
    assert forward[1].endswith(" iifname @pod-interfaces counter name spoofed drop")
    assert forward[2].startswith("meta nfproto ipv6 iifname . ip6 saddr != @pod-sources6 ")
    assert forward[2].endswith(" iifname @pod-interfaces counter name spoofed drop")
    # conntrack as bit tests (no lookup on every packet), as a conntrack-only firewall has it
    assert forward[3:] == ["ct state established,related accept", "ct state invalid drop",
                           "iifname vmap @egress-by-if", "oifname vmap @ingress-by-if"]
    # Egress must not end the base chain: an admitting rule hands the packet to the
    # destination's ingress (goto: no further rule is tried), which is the last word.
    assert found["egress-admitted"] == ["oifname vmap @ingress-by-if", "accept"]
    text = compiled("three-tier").text
    for name, body in found.items():
        verdicts = [line.rsplit(" : ", 1)[-1] for line in re.findall(
            r"map ports-(?:in|out)-\d+ \{.*elements = \{ (.*) \} \}", text)
            for line in line.split(", ")]
        assert all(v.startswith("jump admit-") or v in ("accept", "goto egress-admitted")
                   for v in verdicts)
        if name.startswith("admit-out-"):
            assert all(line.endswith(" goto egress-admitted") for line in body)
        elif name.startswith("admit-in-"):
            assert all(line.endswith(" accept") for line in body)


def test_every_object_but_the_base_chain_and_the_counters_belongs_to_one_generation() -> None:
    ruleset = compiled("three-tier")
    rendered = ruleset.render(7)
    declared = re.findall(r"^  (chain|set|map|counter) (\S+)", rendered, re.M)
    for kind, name in declared:
        if kind == "counter" or name == "forward":
            assert not name.endswith(".g7")
        else:
            assert name.endswith(".g7"), name
    references = re.findall(r"(?:@|jump )([^\s,]+)", rendered)
    assert references and all(name.endswith(".g7") for name in references)
    assert "%gen%" not in rendered and "%gen%" not in ruleset.text and ".g" not in ruleset.text


def test_only_local_pods_get_chains_but_peers_include_every_pod() -> None:
    engine = Engine(load_cluster([str(ROOT / "examples/three-tier")]).cluster)
    ruleset = compile_ruleset(engine, {"shop/db": "eth9"})
    assert {c.pod for c in ruleset.counters} == {"shop/db"}
    api = engine.cluster.endpoint("shop/api")
    assert api is not None and str(api.ip) in ruleset.text  # the peer allowed into db
    assert re.search(r'"eth9" : jump pods-in/shop/\S+', ruleset.text)
    assert '"eth9" : "drop-in/shop/db"' in ruleset.text
    with pytest.raises(QueryError, match="no endpoint shop/nope"):
        compile_ruleset(engine, {"shop/nope": "eth1"})


def _one_namespace(pods: int, rules: int, policies: int = 1) -> Ruleset:
    docs = [pod(f"p{i}", "a", f"10.9.{i // 250}.{i % 250 + 1}", f"{{app: a{i % 5}}}",
                "    - {name: http, containerPort: 80}\n") for i in range(pods)]
    for k in range(policies):
        body = "".join(f"  - from: [{{podSelector: {{matchLabels: {{app: a{r % 5}}}}}}}]\n"
                       f"    ports: [{{port: {1000 + r}}}, {{port: http}}]\n"
                       for r in range(rules))
        docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    f"metadata: {{name: p{k}, namespace: a}}\nspec:\n  podSelector: {{}}\n"
                    f"  ingress:\n{body}")
    engine = engine_of("---\n".join(docs))
    return compile_ruleset(engine, every_pod(engine))


def test_size_grows_with_pods_plus_policies_plus_rules_never_pairs() -> None:
    def size(r: Ruleset) -> int:
        return r.rules + r.set_elements + r.map_elements

    # doubling the pods doubles the size at most (a set of peers grows, pods get map entries)
    small, double = size(_one_namespace(40, 3)), size(_one_namespace(80, 3))
    assert double <= 2.1 * small
    # ten times the rules of a policy that selects every pod: each new rule adds one port to
    # the shared chain (its named port resolves to 80, already there): to its exact set while
    # the port's peers are at most EXACT_PEERS addresses, else to its port map with an admit
    # chain per distinct set of peers. Past that size nothing grows with the pods but the
    # sets: rules and chains follow the policies' rules.
    big = 5 * (EXACT_PEERS + 1)  # each of the 5 apps has more pods than an exact set takes
    for pods in (big, 2 * big):
        few, many = _one_namespace(pods, 1), _one_namespace(pods, 10)
        assert many.map_elements - few.map_elements == 9
        assert many.chains - few.chains == 6 - 1
    assert _one_namespace(big, 10).rules == _one_namespace(2 * big, 10).rules
    assert all(_one_namespace(pods, 10).rules <= _one_namespace(big, 10).rules
               for pods in (40, 80, 160))
    # a second policy with the same rules selecting every pod allows nothing new: the chain
    # all 80 pods share asks the same union, so nothing grows
    many, two = _one_namespace(80, 10), _one_namespace(80, 10, policies=2)
    assert (two.rules, two.chains, two.set_elements, two.map_elements) == (
        many.rules, many.chains, many.set_elements, many.map_elements)


def long_names_ruleset() -> Ruleset:
    ns, name = "n" * 63, "p" * 253
    docs = [
        pod(name, ns, "10.3.0.1", "{app: x}", "    - {name: abcdefghijklmno, containerPort: 80}\n"),
        pod("q" * 250, ns, "10.3.0.2", "{app: 'y'}"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: {'l' * 253}, namespace: {ns}}}\nspec:\n  podSelector: {{}}\n"
        "  policyTypes: [Ingress, Egress]\n  ingress:\n  - ports: [{port: abcdefghijklmno}]\n"
        "  egress:\n  - to: [{podSelector: {matchLabels: {app: x}}}]\n",
    ]
    engine = engine_of("---\n".join(docs))
    return compile_ruleset(engine, every_pod(engine))


def test_long_names_fit_the_kernel_limits_and_stay_unique() -> None:
    text = long_names_ruleset().text
    for prefix in re.findall(r'log prefix ("[^"]*")', text):
        assert len(prefix.encode()) - 2 <= LOG_PREFIX_MAX
    for comment in re.findall(r'comment ("[^"]*")', text):
        assert len(comment.encode()) - 2 <= COMMENT_MAX
    names = re.findall(r"^  (?:chain|counter|set|map) (\S+)", text, re.M)
    assert len(names) == len(set(names))
    assert all(len(n) <= NAME_MAX for n in names)
    assert nft_name("pod-in/", "a/b") == "pod-in/a/b"
    assert nft_name("pod-in/", "x" * 300) != nft_name("pod-in/", "x" * 299 + "y")
    assert counter_name("shop/web", Direction.EGRESS) == "drop-out/shop/web"


def test_compiling_is_deterministic() -> None:
    assert compiled("three-tier").text == compiled("three-tier").text


def test_memory_backend_keeps_the_previous_ruleset_when_an_apply_fails() -> None:
    backend = MemoryBackend()
    first = compiled("three-tier")
    backend.apply(first)
    backend.fail_next = "syntax error"
    with pytest.raises(DataplaneError, match=r"previous ruleset is still in place.*syntax error"):
        backend.apply(compiled("three-tier-v2"))
    assert backend.current == first.text
    assert set(backend.counters()) == {"spoofed"} | {c.name for c in first.counters}
    with pytest.raises(DataplaneError):
        backend.apply(Ruleset("table inet podwall {\n", 0, 0, 0, 0))
    assert backend.current == first.text
    backend.remove()
    assert backend.current is None and backend.counters() == {}


def test_the_transaction_adds_a_generation_and_repoints_the_base_chain_without_deleting() -> None:
    text = transaction(compiled("three-tier"), 3)
    assert text.startswith("add table inet podwall\n"
                           "add chain inet podwall forward { type filter hook forward priority "
                           "filter; policy accept; }\n"
                           "flush chain inet podwall forward\ntable inet podwall {")
    assert "delete" not in text and "iifname vmap @egress-by-if.g3" in text


def test_cleanup_deletes_the_previous_generation_and_unused_counters_in_order() -> None:
    ruleset = compiled("three-tier")
    present = TableObjects(chains=("forward", "pods-in/shop/x.g2", "pod-in/gone/pod.g2", "egress"),
                           sets=("peers4-0.g2",), maps=("ingress-by-if.g2", "drop-in-counters.g2"),
                           counters=("drop-in/shop/db", "drop-in/gone/pod"))
    assert present.generation == 2 and TableObjects().generation == 0
    assert present.counter_maps == ("drop-in-counters.g2",)
    assert cleanup(present, ruleset).splitlines() == [
        "flush chain inet podwall pods-in/shop/x.g2",
        "flush chain inet podwall pod-in/gone/pod.g2",
        "flush chain inet podwall egress",  # a base chain of an older layout goes too
        "delete map inet podwall ingress-by-if.g2",  # map elements hold chains: maps first
        "delete map inet podwall drop-in-counters.g2",
        "delete set inet podwall peers4-0.g2",
        "delete chain inet podwall pods-in/shop/x.g2",
        "delete chain inet podwall pod-in/gone/pod.g2",
        "delete chain inet podwall egress",
        "delete counter inet podwall drop-in/gone/pod",  # its pod is no longer isolated
    ]
    assert cleanup(TableObjects(chains=("forward",)), ruleset) == ""


def test_names_stay_valid_and_distinct_when_clipped() -> None:
    long_pod = "n" * 63 + "/" + "p" * 253
    names = {counter_name(pod, d) for pod in ("shop/db", long_pod, long_pod[:-1] + "q")
             for d in Direction}
    assert len(names) == 6 and all(is_drop_counter(n) and len(n) <= NAME_MAX for n in names)
    assert not is_drop_counter("spoofed")
    assert selection_chain_name("shop", ["allow-web", "deny"], Direction.INGRESS) == (
        "pods-in/shop/allow-web_deny")
    many = [f"policy-number-{i}" for i in range(40)]
    clipped = {selection_chain_name("shop", many[:k], Direction.EGRESS) for k in (39, 40)}
    assert len(clipped) == 2 and all(len(n) <= NAME_MAX and n.startswith("pods-out/shop/")
                                     for n in clipped)


def test_listing_parser_reads_only_this_table() -> None:
    listing = ("table inet other {\n\tchain pod-in/x/a.g1 {\n\t}\n}\n"
               "table inet podwall {\n\tchain forward {\n\t\ttype filter hook forward priority "
               "filter; policy accept;\n\t}\n\tchain pod-in/x/a.g3 {\n\t}\n}\n"
               "table inet podwall {\n\tset peers4-0.g3 {\n\t\ttype ipv4_addr\n\t}\n}\n"
               "table inet podwall {\n\tmap ingress-by-if.g3 {\n\t}\n}\n")
    assert TableObjects.from_listing(listing) == TableObjects(
        ("forward", "pod-in/x/a.g3"), ("peers4-0.g3",), ("ingress-by-if.g3",))
