"""`podwall lint`: the classic NetworkPolicy confusions, each with a stable ID and a fix.

Every check is conservative: it fires only when the input shows the problem. Selectors are
matched through the engine's endpoint classes (`EndpointClasses`: inverted label index, ipBlock
membership computed once), verdicts come from `Engine.check` on one member per class, and rule
containment (PW011) is decided syntactically. Checks that need pods to judge (PW003, PW004,
PW008) stay quiet about namespaces the input has no pods in.

Silencing: `LintConfig` (`disable`, and `ignore` per object, globs allowed) and the policy
annotation `podwall.io/lint-ignore: "PW004,PW010"` (or `"*"`).
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from podwall.analysis import wording
from podwall.analysis.clusterlint import (
    CLUSTER_CHECKS,
    ClusterLinter,
    cluster_object,
    default_denied,
)
from podwall.engine import Engine, selector_matches
from podwall.engine.classes import EndpointClasses, IntArray
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    Labels,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PortQuery,
    Protocol,
    Rule,
    Source,
)
from podwall.model.clusterpolicy import ClusterNetworkPolicy
from podwall.model.implied import KUBE_DNS_LABEL, KUBE_SYSTEM

IGNORE_ANNOTATION = "podwall.io/lint-ignore"
SEVERITIES = ("error", "warning", "info")
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})

# check id -> default severity
CHECKS: dict[str, str] = {
    "PW001": "error",
    "PW002": "warning",
    "PW003": "warning",
    "PW004": "warning",
    "PW005": "warning",
    "PW006": "info",
    "PW007": "warning",
    "PW008": "warning",
    "PW009": "info",
    "PW010": "warning",
    "PW011": "info",
    "PW012": "error",
    "PW013": "info",
    **{k: severity for k, (severity, _) in CLUSTER_CHECKS.items()},
}

# check id -> a short identifier (SARIF `reportingDescriptor.name`, shown by code scanning)
CHECK_NAMES: dict[str, str] = {
    "PW001": "EgressIsolationBlocksDns",
    "PW002": "SeparatePeersWhereOneWasMeant",
    "PW003": "OnePeerWhereSeparateWereMeant",
    "PW004": "SelectorSelectsNothing",
    "PW005": "NoDefaultDenyIngress",
    "PW006": "NoDefaultDenyEgress",
    "PW007": "IpBlockOverlapsPods",
    "PW008": "NamedPortUndefined",
    "PW009": "EndPortNotEnforcedEverywhere",
    "PW010": "RuleAdmitsEverything",
    "PW011": "ShadowedRule",
    "PW012": "EmptyEgressDoesNotIsolate",
    "PW013": "AuditedPolicyNotEnforced",
    **{k: name for k, (_, name) in CLUSTER_CHECKS.items()},
}

DNS_PORTS = (PortQuery(Protocol.UDP, 53), PortQuery(Protocol.TCP, 53))
_ALLOW_ALL_NAME = re.compile(r"allow[-_.]?(all|any|everything)")


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    severity: str
    object: str  # "NetworkPolicy ns/name" or "Namespace ns"
    file: str | None
    line: int | None
    message: str
    fix: str

    @property
    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "object": self.object,
                "file": self.file, "line": self.line, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class LintConfig:
    """`disable: [PW009]` and `ignore: [{check: PW004, object: "NetworkPolicy shop/x"}]`.

    `object` may be a glob (`NetworkPolicy legacy/*`, `Namespace sandbox-*`); `check` may be
    `"*"` (every check for that object).
    """

    disable: frozenset[str] = frozenset()
    ignore: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def from_data(data: Any) -> LintConfig:
        """From parsed YAML; raises ValueError with a user-facing message."""
        if data is None:
            return LintConfig()
        if not isinstance(data, dict):
            raise ValueError("the lint config must be a mapping with 'disable' and/or 'ignore'")
        unknown = set(data) - {"disable", "ignore"}
        if unknown:
            raise ValueError(f"unknown lint config keys: {', '.join(sorted(map(str, unknown)))}"
                             " (known: disable, ignore)")
        disable = data.get("disable") or []
        if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
            raise ValueError("'disable' must be a list of check IDs like [PW009]")
        ignore: list[tuple[str, str]] = []
        raw_ignore = data.get("ignore") or []
        if not isinstance(raw_ignore, list):
            raise ValueError("'ignore' must be a list of {check, object} entries")
        for item in raw_ignore:
            if (not isinstance(item, dict) or not isinstance(item.get("check"), str)
                    or not isinstance(item.get("object"), str)):
                raise ValueError("each 'ignore' entry needs 'check' (PW004) and 'object' "
                                 "(\"NetworkPolicy ns/name\")")
            ignore.append((item["check"].upper(), item["object"]))
        bad = [d for d in [*disable, *(c for c, _ in ignore)]
               if d.upper() not in CHECKS and d != "*"]
        if bad:
            raise ValueError(f"unknown check IDs: {', '.join(bad)} (known: PW001-PW018)")
        return LintConfig(frozenset(d.upper() for d in disable), tuple(ignore))

    def ignores(self, finding: Finding) -> bool:
        return any(check in (finding.id, "*") and fnmatch.fnmatchcase(finding.object, pattern)
                   for check, pattern in self.ignore)


def policy_object(policy: NetworkPolicy) -> str:
    return f"NetworkPolicy {policy.key}"


def lint(subject: Cluster | Any, config: LintConfig | None = None) -> list[Finding]:
    """Every finding for a cluster (or a load result: anything with `.cluster`), sorted."""
    cluster: Cluster = subject if isinstance(subject, Cluster) else subject.cluster
    cfg = config or LintConfig()
    linter = _Linter(cluster)  # audited policies are linted as they will be once enforced
    found: list[Finding] = []
    for check_id, run in linter.checks().items():
        if check_id not in cfg.disable:
            found.extend(run())
    by_annotation: dict[str, set[str]] = {}
    annotated = [(policy_object(p), p.annotations) for p in cluster.all_policies] + [
        (cluster_object(p), p.annotations) for p in cluster.cluster_policies]
    for obj, pairs in annotated:
        for key, value in pairs:
            if key == IGNORE_ANNOTATION:
                by_annotation[obj] = {
                    part.strip().upper() for part in value.split(",") if part.strip()}
    kept = [f for f in found
            if not cfg.ignores(f) and not {f.id, "*", "ALL"} & by_annotation.get(f.object, set())]
    kept.sort(key=lambda f: (f.file or "~", f.line or 0, f.id, f.object, f.message))
    return kept


# -- syntactic helpers ----------------------------------------------------------------------


def _selector_covers(broad: LabelSelector | None, narrow: LabelSelector | None) -> bool:
    """Every label set `narrow` matches, `broad` matches (None = every pod)."""
    if broad is None or broad.is_empty:
        return True
    if narrow is None:
        return False
    return (set(broad.match_labels) <= set(narrow.match_labels)
            and set(broad.match_expressions) <= set(narrow.match_expressions))


def _peer_covers(broad: Peer, narrow: Peer) -> bool:
    """Conservative: True only when `broad` provably matches everything `narrow` matches."""
    if broad == narrow:
        return True
    if broad.ip_block is not None or narrow.ip_block is not None:
        b, n = broad.ip_block, narrow.ip_block
        if b is None or n is None or b.cidr.version != n.cidr.version:
            return False
        return (n.cidr.subnet_of(b.cidr)  # type: ignore[arg-type]
                and all(any(ex.subnet_of(nex) for nex in n.excepts)  # type: ignore[arg-type]
                        for ex in b.excepts))
    if broad.namespace_selector is None:
        ns_ok = narrow.namespace_selector is None
    else:
        ns_ok = (broad.namespace_selector.is_empty
                 or (narrow.namespace_selector is not None
                     and _selector_covers(broad.namespace_selector, narrow.namespace_selector)))
    return ns_ok and _selector_covers(broad.pod_selector, narrow.pod_selector)


def _port_covers(broad: PolicyPort, narrow: PolicyPort) -> bool:
    if broad.protocol is not narrow.protocol:
        return False
    if broad.port is None or broad == narrow:
        return True
    if isinstance(broad.port, int) and isinstance(narrow.port, int):
        return (broad.port <= narrow.port
                and (narrow.end_port or narrow.port) <= (broad.end_port or broad.port))
    return False


def _rule_covers(broad: Rule, narrow: Rule) -> bool:
    if broad.peers and (not narrow.peers or not all(
            any(_peer_covers(b, n) for b in broad.peers) for n in narrow.peers)):
        return False
    return not broad.ports or (bool(narrow.ports) and all(
        any(_port_covers(b, n) for b in broad.ports) for n in narrow.ports))


def _admits_dns_syntactically(rule: Rule) -> bool:
    if not rule.ports:
        return True
    return any(
        pp.protocol in (Protocol.UDP, Protocol.TCP)
        and (pp.port is None or isinstance(pp.port, str)  # a named port may well be DNS
             or (isinstance(pp.port, int) and pp.port <= 53 <= (pp.end_port or pp.port)))
        for pp in rule.ports)


def _ns_only_and_pod_only(a: Peer, b: Peer) -> tuple[LabelSelector, LabelSelector] | None:
    if (a.ip_block is None and a.pod_selector is None and a.namespace_selector is not None
            and b.ip_block is None and b.namespace_selector is None and b.pod_selector is not None
            and not b.pod_selector.is_empty):
        return a.namespace_selector, b.pod_selector
    return None


# -- the checks -----------------------------------------------------------------------------

_KUBE_SYSTEM = Namespace.make(KUBE_SYSTEM)
_KUBE_DNS = Labels(dict([KUBE_DNS_LABEL]))


def _names_kube_dns(policy: NetworkPolicy, peer: Peer) -> bool:
    """A peer that selects kube-system (and, with a pod selector, CoreDNS's k8s-app=kube-dns):
    every cluster has them, so selecting nothing here means the input does not carry them (and
    --no-implied kept podwall from implying them), never a typo."""
    if peer.namespace_selector is None:
        if policy.namespace != KUBE_SYSTEM:
            return False
    elif peer.namespace_selector.is_empty or not selector_matches(peer.namespace_selector,
                                                                  _KUBE_SYSTEM.labels):
        return False
    return peer.pod_selector is None or (not peer.pod_selector.is_empty
                                         and selector_matches(peer.pod_selector, _KUBE_DNS))


class _Linter:
    """Checks judge the audit view (audited policies as if enforced: their mistakes are found
    before they are enforced), except where the question is what protects a namespace *now*
    (PW005, PW006: the enforced view)."""

    def __init__(self, enforced: Cluster) -> None:
        self.enforced = enforced
        cluster = enforced.audit_view()
        self.cluster = cluster
        self.engine = Engine(cluster)
        self.classes = EndpointClasses(cluster)
        class_of = self.classes.class_of
        self.members: list[list[int]] = [[] for _ in range(self.classes.size)]
        for i, c in enumerate(class_of.tolist()):
            self.members[c].append(i)
        self.by_ns: dict[str, list[Endpoint]] = defaultdict(list)
        for ep in cluster.endpoints:
            self.by_ns[ep.namespace].append(ep)
        self._ns_cache: dict[LabelSelector, list[str]] = {}

    def checks(self) -> dict[str, Callable[[], Iterable[Finding]]]:
        return {
            "PW001": self.dns, "PW002": self.split_peers, "PW003": self.and_peers,
            "PW004": self.selects_nothing, "PW005": lambda: self.default_deny(Direction.INGRESS),
            "PW006": lambda: self.default_deny(Direction.EGRESS), "PW007": self.ipblock_pods,
            "PW008": self.named_ports, "PW009": self.end_ports, "PW010": self.admits_all,
            "PW011": self.shadowed, "PW012": self.egress_not_isolated,
            "PW013": self.audited,
            **ClusterLinter(self.cluster, self.classes, self.members,
                            self.engine.evaluator).checks(self.cluster_finding),
        }

    def cluster_finding(self, check_id: str, policy: ClusterNetworkPolicy,
                        words: tuple[str, str]) -> Finding:
        src = policy.source
        return Finding(check_id, CHECKS[check_id], cluster_object(policy),
                       src.file if src else None, src.line if src else None, *words)

    def finding(self, check_id: str, policy: NetworkPolicy, words: tuple[str, str]) -> Finding:
        src = policy.source
        return Finding(check_id, CHECKS[check_id], policy_object(policy),
                       src.file if src else None, src.line if src else None, *words)

    # -- what selectors select (through the classes) -----------------------------------------
    def endpoints_of(self, classes: IntArray) -> list[Endpoint]:
        eps = self.cluster.endpoints
        return [eps[i] for c in classes.tolist() for i in self.members[c]]

    def targets(self, policy: NetworkPolicy) -> IntArray:
        return self.classes.policy_targets(policy.namespace, policy.pod_selector)

    def namespaces_matching(self, selector: LabelSelector) -> list[str]:
        found = self._ns_cache.get(selector)
        if found is None:
            found = self._ns_cache[selector] = [
                ns.name for ns in self.cluster.namespaces.values()
                if selector_matches(selector, ns.labels)]
        return found

    def peer_scope(self, policy: NetworkPolicy, peer: Peer) -> list[str]:
        if peer.namespace_selector is None:
            return [policy.namespace]
        return self.namespaces_matching(peer.namespace_selector)

    def has_pods(self, namespaces: Iterable[str]) -> bool:
        return any(self.by_ns.get(ns) for ns in namespaces)

    def own_namespace_pods(self, policy: NetworkPolicy, selector: LabelSelector) -> IntArray:
        return self.classes.peer(policy.namespace, Peer(pod_selector=selector))

    def peers(self) -> Iterable[tuple[NetworkPolicy, Direction, int, int, Peer]]:
        for policy in self.cluster.policies:
            for direction in Direction:
                for i, rule in enumerate(policy.rules(direction)):
                    for j, peer in enumerate(rule.peers):
                        yield policy, direction, i, j, peer

    # PW001
    def dns(self) -> Iterable[Finding]:
        dns_pods = [ep for ep in self.by_ns.get("kube-system", ())
                    if ep.labels.get("k8s-app") == "kube-dns"]
        # one kube-dns pod per class stands for the others (same verdicts)
        index = {ep.key: i for i, ep in enumerate(self.cluster.endpoints)}
        dns_reps = list({int(self.classes.class_of[index[ep.key]]): ep
                         for ep in dns_pods}.values())
        dns_keys = {ep.key for ep in dns_pods}
        groups: dict[tuple[NetworkPolicy, ...], list[str]] = defaultdict(list)
        for members in self.members:
            if not members:
                continue
            rep = self.cluster.endpoints[members[0]]
            policies = self.engine.selecting(rep, Direction.EGRESS)
            if not policies:
                continue
            if dns_pods:
                blocked = not any(self.engine.check(rep, dns, port).egress.allowed
                                  for dns in dns_reps for port in DNS_PORTS)
            else:
                blocked = not any(_admits_dns_syntactically(rule)
                                  for p in policies for rule in p.egress)
            if blocked:
                groups[policies].extend(self.cluster.endpoints[i].key for i in members
                                        if self.cluster.endpoints[i].key not in dns_keys)
        target = (", ".join(wording.implied_words(d.key, d.implied) for d in dns_pods[:3])
                  if dns_pods else "anywhere")
        if len(dns_pods) > 3:
            target += f" and {len(dns_pods) - 3} more"
        for policies, endpoints in groups.items():
            if endpoints:
                yield self.finding("PW001", policies[0],
                                   wording.lint_dns_words(sorted(endpoints), target))

    # PW002
    def split_peers(self) -> Iterable[Finding]:
        for policy in self.cluster.policies:
            for direction in Direction:
                for i, rule in enumerate(policy.rules(direction)):
                    for j in range(len(rule.peers) - 1):
                        a, b = rule.peers[j], rule.peers[j + 1]
                        pair = _ns_only_and_pod_only(a, b) or _ns_only_and_pod_only(b, a)
                        if pair is None or self.or_was_meant(policy, *pair):
                            continue
                        ns_sel, pod_sel = pair
                        yield self.finding("PW002", policy, wording.lint_split_peer_words(
                            wording.lint_rule_where(direction.word, i, j),
                            wording.namespace_words(ns_sel),
                            wording.selector_words(pod_sel, "pods")))
                        break

    def or_was_meant(self, policy: NetworkPolicy, ns_sel: LabelSelector,
                     pod_sel: LabelSelector) -> bool:
        """The input shows OR was meant: the podSelector selects pods in the policy's own
        namespace and none in the selected namespaces (so AND would select nothing)."""
        if not len(self.own_namespace_pods(policy, pod_sel)):
            return False
        return not len(self.classes.peer(policy.namespace, Peer(pod_selector=pod_sel,
                                                                 namespace_selector=ns_sel)))

    # PW003
    def and_peer_misses(self, policy: NetworkPolicy, peer: Peer) -> bool:
        if peer.pod_selector is None or peer.namespace_selector is None:
            return False
        if len(self.classes.peer(policy.namespace, peer)):
            return False
        return bool(len(self.own_namespace_pods(policy, peer.pod_selector)))

    def and_peers(self) -> Iterable[Finding]:
        for policy, direction, i, j, peer in self.peers():
            if self.and_peer_misses(policy, peer):
                assert peer.pod_selector is not None and peer.namespace_selector is not None
                yield self.finding("PW003", policy, wording.lint_and_peer_words(
                    wording.lint_rule_where(direction.word, i, j),
                    wording.selector_words(peer.pod_selector, "pods"),
                    wording.namespace_words(peer.namespace_selector), policy.namespace))

    # PW004
    def selects_nothing(self) -> Iterable[Finding]:
        for policy in self.cluster.policies:
            if self.by_ns.get(policy.namespace) and not len(self.targets(policy)):
                yield self.finding("PW004", policy, wording.lint_selects_nothing_words(
                    "spec.podSelector", "{" + str(policy.pod_selector) + "}",
                    f"in namespace {policy.namespace}", _empty_values(policy.pod_selector)))
        for policy, direction, i, j, peer in self.peers():
            if peer.ip_block is not None or self.and_peer_misses(policy, peer):
                continue
            where = wording.lint_rule_where(direction.word, i, j)
            if _names_kube_dns(policy, peer):
                continue  # in every cluster, implied unless --no-implied: not a typo
            if (peer.namespace_selector is not None and not peer.namespace_selector.is_empty
                    and not self.namespaces_matching(peer.namespace_selector)):
                yield self.finding("PW004", policy, wording.lint_selects_nothing_words(
                    f"{where}: namespaceSelector", "{" + str(peer.namespace_selector) + "}",
                    "(no namespace in the input has those labels)",
                    _empty_values(peer.namespace_selector)))
                continue
            if peer.pod_selector is not None and not peer.pod_selector.is_empty:
                scope = self.peer_scope(policy, peer)
                if self.has_pods(scope) and not len(self.classes.peer(policy.namespace, peer)):
                    where_pods = (f"in namespace {policy.namespace}"
                                  if peer.namespace_selector is None
                                  else "in the selected namespaces")
                    yield self.finding("PW004", policy, wording.lint_selects_nothing_words(
                        f"{where}: podSelector", "{" + str(peer.pod_selector) + "}", where_pods,
                        _empty_values(peer.pod_selector)))

    # PW005, PW006
    def default_deny(self, direction: Direction) -> Iterable[Finding]:
        check_id = "PW005" if direction is Direction.INGRESS else "PW006"
        covered = {p.namespace for p in self.enforced.policies
                   if p.pod_selector.is_empty and direction in p.policy_types}
        covered |= default_denied(self.cluster, self.by_ns, direction)  # by a cluster admin
        for ns, endpoints in sorted(self.by_ns.items()):
            if ns in covered or ns in SYSTEM_NAMESPACES:
                continue
            # where to point: the Namespace manifest, else its first workload
            src: Source | None = self.cluster.namespace(ns).source or next(
                (ep.source for ep in endpoints if ep.source is not None), None)
            message, fix = wording.lint_no_default_deny_words(ns, direction.word, len(endpoints))
            yield Finding(check_id, CHECKS[check_id], f"Namespace {ns}",
                          src.file if src else None, src.line if src else None, message, fix)

    # PW007
    def ipblock_pods(self) -> Iterable[Finding]:
        pod_cidr = self.cluster.pod_cidr
        for policy, direction, i, j, peer in self.peers():
            block = peer.ip_block
            if block is None:
                continue
            hits: list[str] = []
            if (block.cidr.version == pod_cidr.version and block.cidr.overlaps(pod_cidr)
                    and not any(pod_cidr.subnet_of(ex) for ex in block.excepts)):  # type: ignore[arg-type]
                hits.append(f"the pod CIDR {pod_cidr}")
            # pods whose IP the input gives (status.podIP), not the ones podwall assigned
            pods = [ep.key for ep in self.endpoints_of(self.classes.peer(policy.namespace, peer))
                    if not ep.ip_assigned]
            if pods:
                hits.append("the IPs of " + ", ".join(pods[:3])
                            + (f" and {len(pods) - 3} more" if len(pods) > 3 else ""))
            if hits:
                yield self.finding("PW007", policy, wording.lint_ipblock_pods_words(
                    wording.lint_rule_where(direction.word, i, j), str(block),
                    " and ".join(hits)))

    # PW008
    def named_ports(self) -> Iterable[Finding]:
        if not self.cluster.endpoints:
            return
        all_names = {(cp.name, cp.protocol) for ep in self.cluster.endpoints for cp in ep.ports}
        for policy in self.cluster.policies:
            for direction in Direction:
                for i, rule in enumerate(policy.rules(direction)):
                    named = [pp for pp in rule.ports if isinstance(pp.port, str)]
                    if not named:
                        continue
                    if direction is Direction.INGRESS:
                        targets = self.endpoints_of(self.targets(policy))
                        if not targets:
                            continue  # PW004 says it: nothing to resolve the name on
                        names = {(cp.name, cp.protocol) for ep in targets for cp in ep.ports}
                        scope = "the pods this policy selects"
                    else:
                        names, scope = all_names, "any pod in the input"
                    for pp in named:
                        if (pp.port, pp.protocol) not in names:
                            yield self.finding("PW008", policy, wording.lint_named_port_words(
                                wording.lint_rule_where(direction.word, i), str(pp.port),
                                str(pp.protocol), scope))

    # PW009
    def end_ports(self) -> Iterable[Finding]:
        for policy in self.cluster.policies:
            for direction in Direction:
                for i, rule in enumerate(policy.rules(direction)):
                    for pp in rule.ports:
                        if pp.end_port is not None:
                            yield self.finding("PW009", policy, wording.lint_end_port_words(
                                wording.lint_rule_where(direction.word, i), str(pp)))

    # PW010
    def admits_all(self) -> Iterable[Finding]:
        for policy in self.cluster.policies:
            for direction in Direction:
                if direction not in policy.policy_types:
                    continue
                rules = policy.rules(direction)
                for i, rule in enumerate(rules):
                    if rule.peers or rule.ports:
                        continue
                    where = wording.lint_rule_where(direction.word, i)
                    if rule.peers_given or rule.ports_given:
                        # `from: []` / `ports: []` written out: empty means all, not none
                        yield self.finding("PW010", policy, wording.lint_empty_list_words(
                            where, direction.word, rule.peers_given, rule.ports_given))
                        continue
                    if len(rules) == 1 and _ALLOW_ALL_NAME.search(policy.name):
                        continue  # the idiomatic allow-all policy
                    yield self.finding("PW010", policy, wording.lint_admits_all_words(
                        where, direction.word))

    # PW011
    def shadowed(self) -> Iterable[Finding]:
        by_ns: dict[str, list[NetworkPolicy]] = defaultdict(list)
        for policy in self.cluster.policies:
            by_ns[policy.namespace].append(policy)
        for policies in by_ns.values():
            for direction in Direction:
                active = [p for p in policies if direction in p.policy_types]
                entries = [(p, i, r) for p in active for i, r in enumerate(p.rules(direction))]
                for n, (policy, i, rule) in enumerate(entries):
                    for m, (other, k, broad) in enumerate(entries):
                        if m == n or not _selector_covers(other.pod_selector, policy.pod_selector):
                            continue
                        if not _rule_covers(broad, rule):
                            continue
                        mutual = (_rule_covers(rule, broad)
                                  and _selector_covers(policy.pod_selector, other.pod_selector))
                        if mutual and m > n:
                            continue  # equivalent rules: report only the later one
                        broader = (wording.lint_rule_where(direction.word, k) if other is policy
                                   else f"{other.key} {wording.lint_rule_where(direction.word, k)}")
                        yield self.finding("PW011", policy, wording.lint_shadowed_words(
                            wording.lint_rule_where(direction.word, i), broader))
                        break

    # PW012
    def egress_not_isolated(self) -> Iterable[Finding]:
        for policy in self.cluster.policies:
            if (policy.egress_given and not policy.egress and not policy.policy_types_given
                    and Direction.EGRESS not in policy.policy_types):
                yield self.finding("PW012", policy, wording.lint_egress_not_isolated_words())


    # PW013
    def audited(self) -> Iterable[Finding]:
        for policy in self.enforced.audited:
            yield self.finding("PW013", policy, wording.lint_audited_words())


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def fails(findings: Iterable[Finding], level: str) -> bool:
    """`--fail-on warning` fails on warnings and errors; `error` on errors only."""
    worst = {"error": ("error",), "warning": ("error", "warning")}[level]
    return any(f.severity in worst for f in findings)


__all__ = ["CHECKS", "CHECK_NAMES", "Finding", "LintConfig", "count_by_severity", "fails", "lint"]


def _empty_values(selector: LabelSelector) -> tuple[str, ...]:
    """Keys a selector wants with the value "" (what a rendered `key: null` becomes)."""
    return tuple(key for key, value in selector.match_labels if value == "")
