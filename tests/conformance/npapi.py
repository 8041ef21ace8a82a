"""The network-policy-api conformance suite's cluster, and a probe harness for its cases.

Transcribed from kubernetes-sigs/network-policy-api conformance/base/manifests.yaml: four
namespaces (network-policy-conformance-{gryffindor,slytherin,hufflepuff,ravenclaw}, labelled
`conformance-house: <house>`), each with a StatefulSet of 2 replicas whose pods serve TCP 80 and
8080, UDP 5353 and 53, SCTP 9003 and 9005. podwall reads a StatefulSet as one endpoint, so the
replicas are written out as Pods (`harry-potter-0`, `harry-potter-1`, ...) with the template's
labels plus the `statefulset.kubernetes.io/pod-name` label the StatefulSet controller gives each
replica (cases select single pods by it), fixed pod IPs (10.10.<house>.<replica + 1>), and
their served ports as container ports. Upstream's containers declare only two of them, by name
(manifests.yaml @d48faeeb): TCP 80 as `web` and UDP 53 as `dns`, which the named-port cases use;
the others are declared here unnamed so that `matrix` has every served port.

An upstream case is a list of steps; a step is the manifests at that point (upstream patches
the objects between steps) and its probes `(client, server, "TCP/80", expected)`, as its
`PokeServer` calls say. `assert_probes` checks each probe with the scalar `Engine.check` and the
vectorised `Engine.matrix`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from podwall.engine import Engine
from podwall.errors import Severity
from podwall.manifests import load_cluster
from podwall.model import PortQuery

HOUSES = {"gryffindor": "harry-potter", "slytherin": "draco-malfoy",
          "hufflepuff": "cedric-diggory", "ravenclaw": "luna-lovegood"}
SERVED = (("TCP", 80), ("TCP", 8080), ("UDP", 5353), ("UDP", 53), ("SCTP", 9003),
          ("SCTP", 9005))
NAMED = {("TCP", 80): "web", ("UDP", 53): "dns"}

Probe = tuple[str, str, str, bool]  # client, server ("house/pod-N"), port, allowed?


def ns(house: str) -> str:
    return f"network-policy-conformance-{house}"


def pod(house: str, replica: int) -> str:
    """`gryffindor`, 0 -> `network-policy-conformance-gryffindor/harry-potter-0`."""
    return f"{ns(house)}/{HOUSES[house]}-{replica}"


def pod_ip(house: str, replica: int) -> str:
    return f"10.10.{list(HOUSES).index(house) + 1}.{replica + 1}"


def base_yaml() -> str:
    docs = []
    for house, stem in HOUSES.items():
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns(house)}\n"
                    f"  labels:\n    conformance-house: {house}\n")
        for replica in (0, 1):
            ports = "".join(f"        - containerPort: {n}\n          protocol: {p}\n"
                            + (f"          name: {NAMED[p, n]}\n" if (p, n) in NAMED else "")
                            for p, n in SERVED)
            docs.append(
                f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {stem}-{replica}\n"
                f"  namespace: {ns(house)}\n  labels:\n    conformance-house: {house}\n"
                f"    statefulset.kubernetes.io/pod-name: {stem}-{replica}\n"
                f"spec:\n  containers:\n    - name: {stem}\n      image: agnhost\n"
                f"      ports:\n{ports}status:\n  podIP: {pod_ip(house, replica)}\n")
    return "---\n".join(docs)


def cnp(name: str, tier: str, priority: int, subject: str, ingress: Sequence[str] = (),
        egress: Sequence[str] = ()) -> str:
    """A v1alpha2 ClusterNetworkPolicy; each rule is one YAML flow mapping (`{action: ...}`)."""
    def rules(key: str, items: Sequence[str]) -> str:
        return f"  {key}:\n" + "".join(f"  - {r}\n" for r in items) if items else ""
    return (f"apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
            f"metadata:\n  name: {name}\nspec:\n  tier: {tier}\n  priority: {priority}\n"
            f"  subject: {subject}\n"
            + rules("ingress", ingress) + rules("egress", egress))


def house_selector(house: str) -> str:
    return f"{{matchLabels: {{kubernetes.io/metadata.name: {ns(house)}}}}}"


def engine(*docs: str) -> Engine:
    text = "---\n".join([base_yaml(), *(textwrap.dedent(d).strip() + "\n" for d in docs if d)])
    result = load_cluster(["-"], stdin_text=text)
    errors = [str(d) for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, "the case's manifests do not load:\n" + "\n".join(errors)
    return Engine(result.cluster)


def assert_probes(e: Engine, probes: Sequence[Probe]) -> None:
    """Every probe, by `check` and by `matrix` (which must agree with the expectation)."""
    ports = sorted({PortQuery.parse(p) for _, _, p, _ in probes})
    matrix = e.matrix(ports)
    index = {name: i for i, name in enumerate(matrix.endpoints)}
    wrong = []
    for client, server, port_text, expected in probes:
        port = PortQuery.parse(port_text)
        verdict = e.check(client, server, port)
        by_matrix = matrix.is_allowed(port, index[client], index[server])
        if verdict.allowed != expected or by_matrix != expected:
            wrong.append(f"{client} -> {server} {port}: expected "
                         f"{'allowed' if expected else 'denied'}, check says "
                         f"{verdict.allowed}, matrix says {by_matrix}")
    assert not wrong, "\n".join(wrong)


OfflineProbe = tuple[str, str, str, bool | None]  # client, IP outside the pods, port, expected


def assert_offline_probes(e: Engine, probes: Sequence[OfflineProbe]) -> None:
    """Probes to an address that is no pod (a node's, upstream's host-network pods): `None`
    expects podwall to say the answer cannot be decided offline (a `nodes` or `domainNames`
    peer could change it), a bool expects a decided verdict, by `check` and by `matrix`."""
    ports = sorted({PortQuery.parse(p) for _, _, p, _ in probes})
    matrix = e.matrix(ports, externals=sorted({ip for _, ip, _, _ in probes}))
    index = {name: i for i, name in enumerate(matrix.endpoints)}
    wrong = []
    for client, server, port_text, expected in probes:
        port = PortQuery.parse(port_text)
        verdict = e.check(client, server, port)
        said = ("cannot be decided offline" if not verdict.decided
                else "allowed" if verdict.allowed else "denied")
        want = ("cannot be decided offline" if expected is None
                else "allowed" if expected else "denied")
        by_matrix = matrix.is_allowed(port, index[client], index[server])
        if said != want or (expected is not None and by_matrix != expected):
            wrong.append(f"{client} -> {server} {port}: expected {want}, check says {said}, "
                         f"matrix says {by_matrix}")
    assert not wrong, "\n".join(wrong)
