"""kubernetes-network-policy-recipes (ahmetb): each recipe's policy, the pods its "Try it out"
section creates with kubectl (written out here as manifests), and the outcomes the recipe
documents, as the oracle. The policies are the recipes' own (tests/fixtures/wild/recipes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.engine import Engine
from podwall.errors import Severity
from podwall.manifests import load_cluster
from podwall.model import PortQuery, Protocol

RECIPES = Path(__file__).resolve().parents[1] / "fixtures" / "wild" / "recipes"

# `kubectl run web --image=nginx --labels=app=web --expose --port=80` (a Pod and a Service),
# `kubectl create namespace other; kubectl label namespace/other team=operations`, and the
# `kubectl run test-$RANDOM [--namespace=other] [--labels=type=monitoring]` clients.
WORLD = """
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {team: operations}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: test-plain, namespace: default, labels: {run: test-plain}}
spec: {containers: [{name: t, image: alpine}]}
---
apiVersion: v1
kind: Pod
metadata: {name: test-monitoring, namespace: default, labels: {type: monitoring}}
spec: {containers: [{name: t, image: alpine}]}
---
apiVersion: v1
kind: Pod
metadata: {name: test-plain, namespace: other, labels: {run: test-plain}}
spec: {containers: [{name: t, image: alpine}]}
---
apiVersion: v1
kind: Pod
metadata: {name: test-monitoring, namespace: other, labels: {type: monitoring}}
spec: {containers: [{name: t, image: alpine}]}
---
apiVersion: v1
kind: Pod
metadata: {name: test, namespace: default, labels: {app: foo}}
spec: {containers: [{name: t, image: alpine}]}
"""

TCP80 = PortQuery(Protocol.TCP, 80)


def engine(tmp_path: Path, recipe: str) -> Engine:
    world = tmp_path / "world.yaml"
    world.write_text(WORLD)
    result = load_cluster([str(world), str(RECIPES / recipe)], implied=True)
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR], result.diagnostics
    return Engine(result.cluster)


def verdict(e: Engine, src: str, dst: str, port: PortQuery) -> bool:
    """What a client sees: through the Service (after the DNAT) when dst is `svc/...`."""
    group = e.check_group(src, dst, port)
    assert len(group.verdicts) == 1 and not group.unserved
    return group.allowed


@pytest.mark.parametrize(("client", "allowed"), [
    ("default/test-plain", False),       # "without labelling ... observe it is **blocked**"
    ("default/test-monitoring", False),  # from default, labelled: "observe it is **blocked**"
    ("other/test-plain", False),         # from other, unlabelled: "(traffic blocked)"
    ("other/test-monitoring", True),     # from other, labelled: "(traffic allowed)"
])
def test_07_allow_traffic_from_some_pods_in_another_namespace(
        tmp_path: Path, client: str, allowed: bool) -> None:
    e = engine(tmp_path, "07-web-allow-all-ns-monitoring.yaml")
    assert verdict(e, client, "svc/default/web", TCP80) is allowed


def test_14_deny_external_egress(tmp_path: Path) -> None:
    e = engine(tmp_path, "14-foo-deny-external-egress.yaml")
    # "The pod with `app=foo` label is able to connect to `web` Service."
    assert verdict(e, "default/test", "svc/default/web", TCP80)
    # "The pod is able to resolve the IP address of `www.example.com`" (DNS through the
    # cluster's DNS Service, implied when the input has none)
    assert verdict(e, "default/test", "svc/kube-system/kube-dns", PortQuery(Protocol.UDP, 53))
    # "Connecting to www.example.com (93.184.216.34:80) ... (connection is blocked)"
    assert not e.check("default/test", "93.184.216.34", TCP80).allowed


def test_11_deny_egress_traffic_from_an_application(tmp_path: Path) -> None:
    e = engine(tmp_path, "11-foo-deny-egress.yaml")
    # "wget: bad address 'web:80'": "failing to resolve the address, because the network
    # policy is not allowing it to establish connections to the `kube-dns` Pods"
    assert not verdict(e, "default/test", "svc/kube-system/kube-dns", PortQuery(Protocol.UDP, 53))
    assert not verdict(e, "default/test", "svc/default/web", TCP80)


def test_11_allowing_dns_traffic(tmp_path: Path) -> None:
    e = engine(tmp_path, "11-dns/foo-deny-egress.yaml")
    # "we actually see the IP addresses are resolved, but the traffic is blocked"
    assert verdict(e, "default/test", "svc/kube-system/kube-dns", PortQuery(Protocol.UDP, 53))
    assert verdict(e, "default/test", "svc/kube-system/kube-dns", PortQuery(Protocol.TCP, 53))
    assert not verdict(e, "default/test", "svc/default/web", TCP80)
    assert not e.check("default/test", "93.184.216.34", TCP80).allowed
    # "Beware that the egress rule above allows Pod to connect not only `kube-dns`, but any
    # host that serves traffic over port `53`."
    assert e.check("default/test", "93.184.216.34", PortQuery(Protocol.UDP, 53)).allowed
