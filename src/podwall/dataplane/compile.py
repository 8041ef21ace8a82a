"""Compile a cluster into one `inet` nftables table for a routed node (Calico-style).

Shape (see docs/dataplane.md for a full example):

    table inet podwall {
      set pod-interfaces { type ifname; ... }                          this node's pod veths
      set pod-sources4 { type ifname . ipv4_addr; ... }                 anti-spoofing: veth . pod IP
      set peers4-N { type ipv4_addr; flags interval; ... }              peers (ipv4 / peers6-N)
      map ports-in-N { type inet_service : verdict; [flags interval;]   a selection chain's ports:
          elements = { 80 : jump admit-in-K, 8000-8100 : accept } }     who may reach each
      counter drop-in/<ns>/<pod> { }  counter drop-out/<ns>/<pod> { }   per pod, per direction
      map drop-out-counters { type ifname : counter; "<if>" : "drop-out/<ns>/<pod>", ... }
      map drop-in-counters  { type ifname : counter; ... }
      map egress-by-if  { type ifname : verdict; "<if>" : jump pods-out/<ns>/<policies>, ... }
      map ingress-by-if { type ifname : verdict; "<if>" : jump pods-in/<ns>/<policies>, ... }
      set exact4-N { type ipv4_addr . inet_proto . inet_service; ... } one port's few peers
      chain pods-out/<ns>/<policies> { ip daddr . meta l4proto . th dport @exact4-N goto
                                       egress-admitted; meta l4proto tcp th dport vmap
                                       @ports-out-N; ...;
                                       ip daddr @peers4-M goto egress-admitted (rules without
                                       ports); limit ... log group 100 prefix "pw drop egress
                                       g<n> ns"; counter name iifname map ... drop }
      chain admit-out-K { ip daddr @peers4-M goto egress-admitted }
      chain egress-admitted { oifname vmap @ingress-by-if; accept }
      chain pods-in/<ns>/<policies> { meta l4proto tcp th dport vmap @ports-in-N; ...;
                                      limit ... log ...; counter ... drop }
      chain admit-in-K { # peers of <ns>/<policy> ingress[0]; ip saddr @peers4-M accept }
      (--log-allowed: `log group 100 prefix "pw allow ingress g<n> ns"` before each accept)
      chain forward { type filter hook forward priority filter;  anti-spoofing; conntrack;
                      iifname vmap @egress-by-if; oifname vmap @ingress-by-if }
    }

A selection chain asks the union of its policies' rules in one exact lookup, or one port lookup
and one peer lookup, per direction (podwall.dataplane.dispatch says how, and why: the per-rule
walk it replaces cost ~10% of the new-connection rate).

ONE base chain decides both directions, so every packet is judged by exactly one version of the
ruleset (the kernel picks a chain's rules once per base chain: two base chains could mix the
egress of one version with the ingress of the next while a swap commits). Egress runs first:
what a policy admits `goto`s `egress-admitted`, which hands the packet to the destination pod's
ingress chain (or accepts it when the destination is not isolated here), so evaluation stops at
the first admission; a pods-out chain that nothing admitted drops. Ingress `accept`s what a
policy admits and drops the rest. Pods that nothing isolates have no map entry and pass.

Pods are isolated by the same policies in crowds (replicas, a namespace's default-deny): the
pods of one namespace that the same policies select share one chain per direction, and each
pod's drops still count into its own counter through the counter maps. A node's chains and
rules therefore grow with its distinct selections, not with its pods (the benchmark's
1,000 pods: 165 shared chains).

Every set, map and non-base chain is *generation-scoped*: its name ends in GENERATION, which
`Ruleset.render(n)` turns into `.g<n>` (and `Ruleset.text` into nothing). The backend applies a
new generation beside the old one and switches the base chain to it in one transaction, then
deletes the old generation in a second one; objects that a packet in flight may still look up are
never changed or deleted under it (see podwall.dataplane.backend). Counters are not scoped: they
keep counting across swaps.

Audit mode (policies annotated `podwall.io/enforcement: audit`, kept out of `Cluster.policies`):
only when there are some, every place where the base chain's decision *accepts* a new
connection (an admitting ingress rule, `egress-admitted`, the end of `forward`) goes to the
chain `audit` instead, which runs the same compiler's chains for the audit view
(`audit-pods-out/...`, `audit-admit-in-N`, `audit-egress-admitted`, maps `audit-*-by-if`),
sharing the sets. Where those would drop they log (`log group 100`, prefix `pw audit ...`),
count into `audit-in/<ns>/<pod>` / `audit-out/...` and accept; every path out of `audit`
accepts. So nothing is ever dropped because of an audited policy, an audit event is exactly a
connection allowed now and denied in the audit view, and it is still one base chain: one
ruleset version judges both views of a packet.

Per packet: one anti-spoofing lookup and two conntrack bit tests; a connection's first packet
adds, per isolated direction, a verdict-map lookup by interface and an exact lookup, or a
port-map lookup and a peer lookup: nothing grows with the number of pods, policies or rules.
Size: sets grow with distinct peers (shared by content), port maps and admit chains with the
distinct ports and peers of the selections' rules, map elements with pods: pods + policies +
rules, never pairs of pods.
Drop, never reject: the lab tells drops by timeouts.

Drops go to NFLOG (`log group N`), rate-limited, never to the kernel log: in a network namespace
other than the machine's own, `log` to the kernel log prints nothing unless a host-wide sysctl
says otherwise, while an NFLOG group is read from a netlink socket opened inside the node's
namespace (podwall.dataplane.nflog). The prefix is a small contract (podwall.dataplane.logprefix):
`pw <action> <stage> g<generation> <namespace> [admin|baseline]`. The generation is
the one whose rule logged, so whoever reads the event attributes it with the policies of the
ruleset that judged the packet, even while `apply` swaps in the next one. The last word is there
when a cluster policy's Deny logged (podwall.dataplane.tiers): the kernel's own word for which tier
dropped it, which the reader holds to the engine's deciding rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from podwall.dataplane.addresses import (
    FAMILY,
    PROTOCOL_WORDS,
    ClassAddresses,
    Intervals,
    NamedPortElements,
    block_networks,
    ipv4_text,
    merge_intervals,
)
from podwall.dataplane.logprefix import LOG_GENERATION, LOG_GROUP, LOG_GROUP_MAX, log_statement
from podwall.dataplane.nftsyntax import (
    NAME_MAX,
    Ident,
    Quoted,
    fixed,
    ident,
    ifname,
    quoted,
)
from podwall.engine import Engine
from podwall.engine.classes import EndpointClasses
from podwall.errors import QueryError
from podwall.model import (
    Direction,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Protocol,
)

TABLE = fixed("podwall")
BASE_CHAIN = fixed("forward")
BASE_CHAIN_TYPE = "type filter hook forward priority filter; policy accept;"
# The marker every generation-scoped name carries until a generation is rendered into it.
GENERATION = "%gen%"
# Where an admitting egress rule sends a packet: on to the destination's ingress.
ADMITTED_CHAIN = fixed("egress-admitted")
# Audit mode: where the enforced view's accepts go when the input has audited policies, and
# where the audit view's admitting egress rules hand a packet on.
AUDIT_CHAIN = fixed("audit")
AUDIT_ADMITTED_CHAIN = fixed("audit-egress-admitted")
AUDIT_PREFIX = "audit-"
# Kernel limits (measured with nft 1.0.6): a log prefix holds 127 bytes, a comment 128, an object
# or chain name 254. Longer names are clipped and made unique with a hash.
COMMENT_MAX = 128
# Between the policy names of a shared chain's name: Kubernetes names never contain it.
POLICY_SEPARATOR = "_"
_GENERATION_SUFFIX = re.compile(r"\.g(\d+)$")  # what Ruleset.render puts in place of GENERATION

@dataclass(frozen=True, slots=True)
class DropCounter:
    """A named nft counter and what it counts: drops of `pod` in `direction` (action "drop"),
    or new connections the audit view would drop there and that passed (action "audit")."""

    name: str
    pod: str
    direction: Direction
    action: str = "drop"


@dataclass(frozen=True, slots=True)
class Ruleset:
    """The compiled table, the counts that show it grows linearly, and the drop counters.

    `template` is the table with GENERATION in every generation-scoped name; `text` is the same
    table for reading (no generation in the names), `render(n)` the one generation n applies.
    """

    template: str
    chains: int
    rules: int
    sets: int
    set_elements: int
    maps: int = 0
    map_elements: int = 0
    counters: tuple[DropCounter, ...] = ()

    @property
    def text(self) -> str:
        return self.template.replace(GENERATION, "").replace(LOG_GENERATION, "N")

    def render(self, generation: int) -> str:
        return (self.template.replace(GENERATION, f".g{generation}")
                .replace(LOG_GENERATION, str(generation)))

    def summary(self) -> str:
        return (f"{self.chains} chains, {self.rules} rules, {self.sets} sets with "
                f"{self.set_elements} elements, {self.maps} maps with {self.map_elements} elements")


# -- names and text ---------------------------------------------------------------------------


def nft_name(prefix: str, key: str, limit: int = NAME_MAX) -> Ident:
    """A valid, unique nft identifier for `key` (clipped and hashed when long or unusual)."""
    return ident(prefix, key, limit)


def _quote(text: str, limit: int) -> Quoted:
    return quoted(text, limit)


def selection_chain_name(namespace: str, policies: Sequence[str], direction: Direction,
                         view: str = "", variant: int = 1) -> Ident:
    """The chain shared by the pods of `namespace` that exactly `policies` (names) isolate in
    `direction`, before its generation: `pods-in/ns/allow-web_default-deny` (`view` is
    AUDIT_PREFIX for the audit view's: `audit-pods-in/...`). Pods of such a crowd that resolve
    the policies' named ports to other numbers get variants: `.../allow-web_default-deny/2`
    (podwall.dataplane.dispatch)."""
    return nft_name(f"{view}pods-{_short(direction)}/",
                    f"{namespace}/{POLICY_SEPARATOR.join(policies)}"
                    + (f"/{variant}" if variant > 1 else ""))


def counter_name(pod: str, direction: Direction, action: str = "drop") -> Ident:
    """The named counter of drops of `pod` (`ns/name`) in `direction`: `drop-in/ns/name`; with
    action "audit", of its new connections the audit view would drop: `audit-in/ns/name`."""
    return nft_name(f"{action}-{_short(direction)}/", pod)


def counter_map_name(direction: Direction, action: str = "drop") -> Ident:
    """The map from a pod interface to its drop (or audit) counter in `direction`, before its
    generation."""
    return fixed(f"{action}-{_short(direction)}-counters")


_ACTIONS = ("drop", "audit")


def is_counter_map(name: str) -> bool:
    """Whether a (rendered) map of the table is one of the counter maps."""
    return _GENERATION_SUFFIX.sub("", name) in {counter_map_name(d, a) for d in Direction
                                                for a in _ACTIONS}


def is_drop_counter(name: str) -> bool:
    """Whether a counter of the table is a pod's drop (or audit) counter (the backend deletes
    those that no pod uses any more)."""
    return name.startswith(tuple(f"{a}-{_short(d)}/" for d in Direction for a in _ACTIONS))


def scoped(name: Ident) -> Ident:
    """`name` as one generation's object (see GENERATION)."""
    return Ident(name + GENERATION)


def generation_of(name: str) -> int | None:
    """The generation a rendered object name belongs to (None: not generation-scoped)."""
    found = _GENERATION_SUFFIX.search(name)
    return int(found.group(1)) if found else None


def _short(direction: Direction) -> str:
    return "in" if direction is Direction.INGRESS else "out"


# -- the compiler -------------------------------------------------------------------------------


class _Builder:
    """Accumulates sets, counters and chains of one view; every set is shared by identical
    content (with the other view's builder too: `share_sets`).

    `view` is "" for the enforced view and AUDIT_PREFIX for the audit view, whose chains log
    and accept where the enforced ones drop. `admit_ingress` is what an admitting ingress rule
    does: accept, or (enforced view, when there are audited policies) `goto audit`, so that an
    accepted new connection meets the audit view before it is accepted.
    """

    def __init__(self, engine: Engine, interfaces: Mapping[str, str], view: str = "",
                 admit_ingress: str = "accept", log_group: int = LOG_GROUP,
                 log_allowed: bool = False) -> None:
        self.view = view
        self.log_group = log_group
        self.log_allowed = log_allowed
        self.admit_ingress = admit_ingress
        self.admitted_chain = AUDIT_ADMITTED_CHAIN if view else ADMITTED_CHAIN
        self.engine = engine
        self.cluster = engine.cluster
        # Peers resolve through the engine's endpoint classes: one selector evaluation per class.
        self.classes = EndpointClasses(self.cluster)
        self.addresses = {version: ClassAddresses(self.cluster.endpoints, self.classes.class_of,
                                                   self.classes.size, version)
                          for version in (4, 6)}
        self.interfaces = interfaces
        self.set_lines: list[str] = []
        self.set_names: dict[tuple[str, bool, tuple[str, ...]], Ident] = {}
        self.kind_count: dict[str, int] = {}
        self.elements = 0
        self.rules = 0
        self.peer_cache: dict[tuple[str | None, tuple[Peer, ...]], dict[int, Intervals]] = {}
        self.named_cache: dict[tuple[int, Protocol, str, bool], str | None] = {}
        self._named_index: dict[bool, dict[tuple[str, Protocol, int], NamedPortElements]] = {}
        self.map_lines: list[str] = []
        self.chain_lines: list[str] = []
        self.audited = {p.key for p in self.cluster.policies if p.audited}
        # NetworkPolicy selection chains (podwall.dataplane.dispatch imports this module, so it
        # is imported here, where the builder exists, as the tier compiler is)
        from podwall.dataplane.dispatch import SelectionWriter
        self.selections = SelectionWriter(self)

    def share_sets(self, other: _Builder) -> None:
        """Add sets to `other`'s list (one table, each set once) from now on."""
        self.set_lines = other.set_lines
        self.set_names = other.set_names
        self.kind_count = other.kind_count
        self.map_lines = other.map_lines  # (maps are not shared: their verdicts name chains)
        if self.cluster.endpoints is other.cluster.endpoints:  # named sets follow the endpoints
            self.named_cache = other.named_cache
        self.elements = 0

    # -- sets ----------------------------------------------------------------------------------
    def numbered(self, kind: str) -> Ident:
        """The next generation-scoped name of `kind` in the table: `<kind>-<n>` (sets, maps and
        chains of every view draw from one count, so no two collide)."""
        index = self.kind_count.get(kind, 0)
        self.kind_count[kind] = index + 1
        return scoped(fixed(f"{kind}-{index}"))

    def add_set(self, kind: str, type_: str, elements: Sequence[str], *, interval: bool,
                name: Ident | None = None, comment: str | None = None) -> Ident:
        key = (type_, interval, tuple(elements))
        found = self.set_names.get(key)
        if found is not None:
            return found
        name = self.numbered(kind) if name is None else scoped(name)
        self.set_names.setdefault(key, name)
        flags = " flags interval;" if interval else ""
        note = f" comment {_quote(comment, COMMENT_MAX)};" if comment else ""
        body = f" elements = {{ {', '.join(elements)} }}" if elements else ""
        self.set_lines.append(f"  set {name} {{ type {type_};{flags}{note}{body} }}")
        self.elements += len(elements)
        return name

    # -- peers ---------------------------------------------------------------------------------
    def peer_intervals(self, policy: NetworkPolicy, peers: tuple[Peer, ...]) -> dict[int, Intervals]:
        """Addresses the peers match, per IP version, as merged integer intervals.

        ipBlocks are exact CIDR arithmetic (`except` carved out); selectors go through the
        engine's endpoint classes. Integers, not ipaddress objects: thousands of pods.
        """
        depends_on_namespace = any(p.ip_block is None and p.namespace_selector is None
                                   for p in peers)
        key = (policy.namespace if depends_on_namespace else None, peers)
        hit = self.peer_cache.get(key)
        if hit is not None:
            return hit
        found: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        classes: set[int] = set()
        for peer in peers:
            if peer.ip_block is not None:
                for net in block_networks(peer.ip_block):
                    found[net.version].append((int(net.network_address),
                                               int(net.broadcast_address)))
            else:
                classes.update(self.classes.peer(policy.namespace, peer).tolist())
        hit = {}
        for version in (4, 6):
            addresses = self.addresses[version].of_classes(classes)
            hit[version] = (merge_intervals([*found[version], *addresses]) if found[version]
                            else addresses)
        self.peer_cache[key] = hit
        return hit

    # -- ports ---------------------------------------------------------------------------------
    def named_index(self, local: bool) -> dict[tuple[str, Protocol, int], NamedPortElements]:
        """(port name, protocol, IP version) -> where it resolves among every endpoint (or this
        node's pods): their addresses and set elements, formatted once per endpoint and port."""
        index = self._named_index.get(local)
        if index is None:
            found: dict[tuple[str, Protocol, int], list[tuple[int, int, str]]] = {}
            for ep in self.cluster.endpoints:
                if ep.ip is None or not ep.ports or (local and ep.key not in self.interfaces):
                    continue
                value = int(ep.ip)
                address = ipv4_text(value) if ep.ip.version == 4 else str(ep.ip)
                for cp in ep.ports:
                    if cp.name:
                        found.setdefault((cp.name, cp.protocol, ep.ip.version), []).append(
                            (value, cp.port,
                             f"{address} . {PROTOCOL_WORDS[cp.protocol]} . {cp.port}"))
            index = self._named_index[local] = {
                key: NamedPortElements.of(key[2], entries) for key, entries in found.items()}
        return index

    def named_set(self, version: int, protocol: Protocol, name: str,
                  direction: Direction) -> str | None:
        """The set `address . protocol . port` of the endpoints where `name` resolves, or None.

        An ingress rule is only ever asked about packets to one of this node's pods (its own
        ingress chain), so its set holds the local pods alone; egress may go to any endpoint.
        """
        local = direction is Direction.INGRESS
        key = (version, protocol, name, local)
        if key in self.named_cache:
            return self.named_cache[key]
        where_named = self.named_index(local).get((name, protocol, version))
        elements = sorted(set(where_named.elements)) if where_named else []
        result = None
        if elements:
            _, type_ = FAMILY[version]
            proto = protocol.value.lower()
            kind, where = ("local", "this node's pods") if local else ("named", "every endpoint")
            result = self.add_set(
                kind, f"{type_} . inet_proto . inet_service", elements, interval=False,
                name=nft_name(f"{kind}{version}-{proto}-", name),
                comment=f"named port {protocol.value}/{name}, resolved on {where}")
        self.named_cache[key] = result
        return result

    def named_within(self, version: int, protocol: Protocol, name: str,
                     peers: Intervals) -> str | None:
        """The `address . protocol . port` set of the endpoints inside `peers` where `name`
        resolves (None when none): an egress rule's peers and named port in one lookup, and a
        set of the rule's destinations rather than of every endpoint of the cluster."""
        where_named = self.named_index(False).get((name, protocol, version))
        elements = where_named.within(peers) if where_named else []
        if not elements:
            return None
        _, type_ = FAMILY[version]
        return self.add_set(f"dests{version}", f"{type_} . inet_proto . inet_service",
                            elements, interval=False,
                            comment=f"named port {protocol.value}/{name}, resolved on the rule's peers")

    def port_matches(self, ports: tuple[PolicyPort, ...], direction: Direction,
                     peers: dict[int, Intervals] | None = None,
                     ) -> list[tuple[int | None, str, bool]] | None:
        """Alternative port matches (one nft rule each), with the IP version they need and
        whether they match the peers too (egress named ports given `peers`); None = any port;
        [] = no port can match."""
        if not ports:
            return None
        numeric: dict[Protocol, list[tuple[int, int]]] = {}
        named: set[tuple[Protocol, str]] = set()
        for pp in ports:
            if pp.port is None:
                numeric.setdefault(pp.protocol, []).append((0, 65535))
            elif isinstance(pp.port, int):
                end = pp.end_port if pp.end_port is not None else pp.port
                numeric.setdefault(pp.protocol, []).append((pp.port, end))
            else:
                named.add((pp.protocol, pp.port))
        out: list[tuple[int | None, str, bool]] = []
        # One match per protocol, never a concatenated `inet_proto . inet_service` interval set:
        # that is the kernel's pipapo backend, the dearest lookup on a first packet measured
        # here (docs/performance.md). Merged: nft refuses overlapping intervals in one set.
        for protocol in sorted(numeric, key=lambda p: p.value.lower()):
            merged = merge_intervals(numeric[protocol])
            proto = f"meta l4proto {PROTOCOL_WORDS[protocol]}"
            if merged == [(0, 65535)]:
                out.append((None, proto, False))
                continue
            texts = [str(low) if low == high else f"{low}-{high}" for low, high in merged]
            if len(texts) == 1:
                out.append((None, f"{proto} th dport {texts[0]}", False))
                continue
            name = self.add_set("ports", "inet_service", texts,
                                interval=any(low != high for low, high in merged))
            out.append((None, f"{proto} th dport @{name}", False))
        for protocol, port_name in sorted(named):
            for version in (4, 6):
                set_name = (self.named_set(version, protocol, port_name, direction) if peers is None
                            else self.named_within(version, protocol, port_name, peers[version]))
                if set_name is not None:
                    # Resolution happens on the destination: the packet's daddr, both directions.
                    out.append((version, f"{FAMILY[version][0]} daddr . meta l4proto . th dport "
                                         f"@{set_name}", peers is not None))
        return out

def compile_ruleset(engine: Engine, interfaces: Mapping[str, str], table: str = TABLE, *,
                    log_group: int = LOG_GROUP, log_allowed: bool = False) -> Ruleset:
    """The whole table for the pods in `interfaces` (endpoint `ns/name` -> node-side interface).

    Only those pods get chains (they are this node's pods); peers may be any endpoint. Drops are
    logged to NFLOG group `log_group`; with `log_allowed`, so is the first packet of every
    connection the ruleset lets through (where it was admitted: an ingress rule, the egress side
    when the destination is not isolated here, or the base chain when neither side is). The
    audit view (audited policies) logs what it would drop to the same group, as action `audit`.
    """
    if not 0 <= log_group <= LOG_GROUP_MAX:
        raise QueryError(f"log group {log_group}: must be 0..{LOG_GROUP_MAX}")
    unknown = sorted(key for key in interfaces if engine.cluster.endpoint(key) is None)
    if unknown:
        raise QueryError(f"no endpoint {', '.join(unknown[:5])} in the input")
    try:
        table_name = fixed(table)
        quoted_ifs = {key: ifname(name) for key, name in interfaces.items()}
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    audit_view = engine.cluster.audit_view() if engine.cluster.audited else None
    b = _Builder(engine, interfaces,
                 admit_ingress="accept" if audit_view is None else f"goto {scoped(AUDIT_CHAIN)}",
                 log_group=log_group, log_allowed=log_allowed)
    views = [("drop", b)]
    if audit_view is not None:
        audit_builder = _Builder(Engine(audit_view), interfaces, view=AUDIT_PREFIX,
                                 log_group=log_group)
        audit_builder.share_sets(b)
        views.append(("audit", audit_builder))
    local = [ep for ep in engine.cluster.endpoints if ep.key in interfaces]
    ifnames = sorted({quoted_ifs[ep.key] for ep in local})
    sources: dict[int, list[str]] = {4: [], 6: []}
    for ep in local:
        if ep.ip is not None:  # an ipaddress object: its text is an address and nothing else
            sources[ep.ip.version].append(f"{quoted_ifs[ep.key]} . {ep.ip}")
    head = [f"table inet {table_name} {{"]
    interfaces_set = b.add_set("pod-interfaces", "ifname", ifnames, interval=False,
                               name=fixed("pod-interfaces"), comment="this node's pod interfaces")
    source_sets = {
        version: b.add_set("pod-sources", f"ifname . {FAMILY[version][1]}",
                           sorted(sources[version]), interval=False,
                           name=fixed(f"pod-sources{version}"),
                           comment="each pod interface and its pod's address (anti-spoofing)")
        for version in (4, 6)}
    counters: list[DropCounter] = []
    objects = ["  counter spoofed { comment \"packets from a pod whose source address is not "
               "the pod's\" }"]
    map_elements = 0
    map_names: dict[tuple[str, Direction], Ident] = {}
    map_lines: list[str] = []
    chain_lines: list[str] = []
    rules = 0
    for action, builder in views:
        maps: dict[Direction, list[str]] = {Direction.EGRESS: [], Direction.INGRESS: []}
        counter_maps: dict[Direction, list[str]] = {Direction.EGRESS: [], Direction.INGRESS: []}
        tiers = None
        if engine.cluster.cluster_policies:  # the cluster-admin tiers (podwall.dataplane.tiers)
            from podwall.dataplane.tiers import TierCompiler
            tiers = TierCompiler(builder)
        for pod in local:
            for direction in (Direction.EGRESS, Direction.INGRESS):
                policies = builder.engine.selecting(pod, direction)
                chain = (builder.selections.chain(pod, direction, policies) if policies
                         else None)
                if tiers is not None:
                    chain = tiers.entry(pod, direction, chain)
                if chain is not None:
                    counter = DropCounter(counter_name(pod.key, direction, action), pod.key,
                                          direction, action)
                    counters.append(counter)
                    pod_if = quoted_ifs[pod.key]
                    maps[direction].append(f"{pod_if} : jump {chain}")
                    counter_maps[direction].append(f"{pod_if} : \"{counter.name}\"")
        for direction in (Direction.EGRESS, Direction.INGRESS):
            name = map_names[(action, direction)] = scoped(
                fixed(f"{builder.view}{direction.word}-by-if"))
            for map_name, type_, entries in (
                    (name, "verdict", maps[direction]),
                    (scoped(counter_map_name(direction, action)), "counter",
                     counter_maps[direction])):
                body = f" elements = {{ {', '.join(entries)} }}" if entries else ""
                map_lines.append(f"  map {map_name} {{ type ifname : {type_};{body} }}")
                map_elements += len(entries)
        builder.selections.write_admit_chains()
        chain_lines += builder.chain_lines
        rules += builder.rules
    for c in counters:
        note = f"{c.pod} {c.direction.word}" + (" audit" if c.action == "audit" else "")
        objects.append(f"  counter {c.name} {{ comment {_quote(note, COMMENT_MAX)} }}")
    objects += map_lines
    # With audited policies, every accept of a new connection goes through the audit view
    # first, which logs (and counts) what it would drop and accepts everything.
    accept = "accept" if audit_view is None else f"goto {scoped(AUDIT_CHAIN)}"
    admitted = [
        f"  chain {scoped(ADMITTED_CHAIN)} {{",
        "    # an egress policy admitted the packet: now the destination's ingress decides",
        f"    oifname vmap @{map_names[('drop', Direction.INGRESS)]}",
        (f"    {log_statement('', Direction.EGRESS, 'allow', log_group, limit=False)} {accept}"
         if log_allowed else f"    {accept}"),
        "  }",
    ]
    if audit_view is not None:
        admitted += [
            f"  chain {scoped(AUDIT_CHAIN)} {{",
            "    # the enforced view accepts this new connection: would the audit view?",
            f"    iifname vmap @{map_names[('audit', Direction.EGRESS)]}",
            f"    oifname vmap @{map_names[('audit', Direction.INGRESS)]}",
            "    accept",
            "  }",
            f"  chain {scoped(AUDIT_ADMITTED_CHAIN)} {{",
            "    # the audit view's egress admitted it: its ingress decides what to log",
            f"    oifname vmap @{map_names[('audit', Direction.INGRESS)]}",
            "    accept",
            "  }",
        ]
        rules += 3 + 2
    base = [
        f"  chain {BASE_CHAIN} {{",
        f"    {BASE_CHAIN_TYPE}",
        # A pod's own packets (nearly all) pass the anti-spoofing check with one lookup: the
        # interface . address pair first, the interface set only for what fails it.
        f"    meta nfproto ipv4 iifname . ip saddr != @{source_sets[4]} iifname @{interfaces_set} "
        "counter name spoofed drop",
        f"    meta nfproto ipv6 iifname . ip6 saddr != @{source_sets[6]} iifname @{interfaces_set} "
        "counter name spoofed drop",
        # Bit tests, no lookup: what every packet of every connection pays.
        "    ct state established,related accept",
        "    ct state invalid drop",
        f"    iifname vmap @{map_names[('drop', Direction.EGRESS)]}",
        f"    oifname vmap @{map_names[('drop', Direction.INGRESS)]}",
        *([f"    {log_statement('', 'forward', 'allow', log_group, limit=False)}"]
          if log_allowed else []),
        *([] if audit_view is None else [f"    goto {scoped(AUDIT_CHAIN)}"]),
        "  }",
        "}",
    ]
    rules += 2 + 6 + int(log_allowed) + (audit_view is not None)
    lines = [*head, *b.set_lines, *b.map_lines, *objects, *chain_lines, *admitted, *base]
    chains = sum(1 for line in chain_lines if line.startswith("  chain ")) + 2 + (
        2 if audit_view is not None else 0)
    elements = sum(builder.elements for _, builder in views)
    map_elements += sum(builder.selections.map_elements for _, builder in views)
    return Ruleset("\n".join(lines) + "\n", chains, rules, len(b.set_lines), elements,
                   len(map_names) * 2 + len(b.map_lines), map_elements, tuple(counters))

__all__ = [
    "ADMITTED_CHAIN",
    "BASE_CHAIN",
    "GENERATION",
    "TABLE",
    "DropCounter",
    "Ruleset",
    "compile_ruleset",
    "counter_map_name",
    "counter_name",
    "generation_of",
    "is_counter_map",
    "is_drop_counter",
    "nft_name",
    "scoped",
    "selection_chain_name",
]
