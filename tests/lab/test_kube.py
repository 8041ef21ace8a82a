"""kubectl's verbs on the lab's snapshot, and what get/describe print (no root needed)."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from podwall.errors import InputError
from podwall.lab import kube, views
from podwall.lab import services as svcs
from podwall.lab.objects import pod_manifest, policy_manifest, service_manifest
from podwall.manifests import load_cluster
from podwall.model import Cluster, Protocol, build_cluster

POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: access-nginx, namespace: default}
spec:
  podSelector: {matchLabels: {app: nginx}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchLabels: {access: "true"}}
    ports:
    - {port: 80}
"""


def empty() -> Cluster:
    return svcs.with_cluster_dns(build_cluster([], [], [], "10.244.0.0/16"))


def loaded(text: str) -> Cluster:
    result = load_cluster(["-"], stdin_text=text)
    assert not [d for d in result.diagnostics if d.severity.name == "ERROR"]
    return result.cluster


def test_cluster_dns_is_implied_once_and_a_users_own_is_kept() -> None:
    cluster = empty()
    assert [ep.key for ep in cluster.endpoints] == ["kube-system/coredns"]
    dns = svcs.service(cluster, "kube-system", "kube-dns")
    assert dns is not None and str(dns.cluster_ip) == "10.96.0.10"
    assert svcs.with_cluster_dns(cluster) == cluster
    assert svcs.nameserver(cluster) == "10.96.0.10"


def test_run_gives_labels_ports_and_an_ip_and_refuses_duplicates() -> None:
    cluster = kube.run_pod(empty(), "default", "nginx", None, [], "nginx")
    pod = cluster.endpoint("default/nginx")
    assert pod is not None and dict(pod.labels) == {"run": "nginx"}
    assert [(p.port, p.protocol) for p in pod.ports] == [(80, Protocol.TCP)]
    assert pod.ip in ipaddress.ip_network("10.244.0.0/16")
    coredns = empty().endpoint("kube-system/coredns")
    assert coredns is not None and cluster.endpoint("kube-system/coredns") == coredns  # kept
    with pytest.raises(InputError, match=r'AlreadyExists\): pods "nginx" already exists'):
        kube.run_pod(cluster, "default", "nginx", None, [], None)
    with pytest.raises(InputError, match=r"metadata\.name: Invalid value"):
        kube.run_pod(cluster, "default", "Bad_Name", None, [], None)
    with pytest.raises(InputError, match="--image-like 'nope'"):
        kube.run_pod(cluster, "default", "x", None, [], "nope")
    assert "other" in kube.run_pod(cluster, "other", "c", None, [], None).namespaces


def test_expose_selects_the_pods_labels_and_dnat_reaches_it() -> None:
    cluster = kube.run_pod(empty(), "default", "web", {"app": "web"}, [(8080, Protocol.TCP)])
    cluster, service = kube.expose(cluster, "default", "web", 80, "front", 8080, None)
    assert service.key == "default/front" and service.cluster_ip in svcs.SERVICE_CIDR
    assert service.cluster_ip != svcs.KUBE_DNS_IP
    pod = cluster.endpoint("default/web")
    assert pod is not None
    text = svcs.compile_dnat(cluster)
    assert f"{service.cluster_ip} . tcp . 80 : goto" in text
    assert f"0 : {pod.ip} . 8080" in text and "10.96.0.10 . udp . 53" in text
    assert f"{pod.ip} . {pod.ip}" in text and "snat ip to 169.254.1.1" in text  # hairpin
    with pytest.raises(InputError, match="AlreadyExists"):
        kube.expose(cluster, "default", "web", 80, "front", None, None)
    with pytest.raises(InputError, match=r'NotFound\): pods "nope" not found'):
        kube.expose(cluster, "default", "nope", 80, None, None, None)
    # a Service whose pods are gone has no DNAT entry (its ClusterIP is unrouted)
    gone, _ = kube.delete(cluster, "pod", "default", "web")
    assert f"{service.cluster_ip} ." not in svcs.compile_dnat(gone)


def test_apply_creates_configures_and_leaves_unchanged() -> None:
    cluster = kube.run_pod(empty(), "default", "nginx", {"app": "nginx"}, [(80, Protocol.TCP)])
    cluster, changes = kube.apply_objects(cluster, loaded(POLICY))
    assert [c.line for c in changes] == ["networkpolicy.networking.k8s.io/access-nginx created"]
    again, changes = kube.apply_objects(cluster, loaded(POLICY))
    assert again == cluster and [c.action for c in changes] == ["unchanged"]
    changed, changes = kube.apply_objects(cluster, loaded(POLICY.replace("80", "81")))
    assert [c.action for c in changes] == ["configured"] and changed != cluster
    assert cluster.endpoint("default/nginx") == changed.endpoint("default/nginx")


def test_delete_and_label_speak_kubectl() -> None:
    cluster = kube.run_pod(empty(), "shop", "web", {"app": "web"}, [])
    cluster, change = kube.label(cluster, "pod", "shop", "web", ["tier=front"])
    assert change.line == "pod/web labeled"
    web = cluster.endpoint("shop/web")
    assert web is not None and dict(web.labels) == {"app": "web", "tier": "front"}
    with pytest.raises(InputError, match=r"'app' already has a value \(web\), and --overwrite"):
        kube.label(cluster, "pod", "shop", "web", ["app=api"])
    cluster, _ = kube.label(cluster, "pod", "shop", "web", ["app=api", "tier-"], overwrite=True)
    web = cluster.endpoint("shop/web")
    assert web is not None and dict(web.labels) == {"app": "api"}
    cluster, _ = kube.label(cluster, "namespace", "", "shop", ["team=a"])
    assert cluster.namespaces["shop"].labels.get("team") == "a"
    assert cluster.namespaces["shop"].labels.get("kubernetes.io/metadata.name") == "shop"
    with pytest.raises(InputError, match="Forbidden"):
        kube.delete(cluster, "namespace", "", "kube-system")
    with pytest.raises(InputError, match=r'networkpolicies "x" not found'):
        kube.delete(cluster, "networkpolicy", "shop", "x")
    gone, change = kube.delete(cluster, "namespace", "", "shop")
    assert change.line == 'namespace "shop" deleted' and gone.endpoint("shop/web") is None
    assert kube.resource("netpol") == "networkpolicy" and kube.resource("po") == "pod"
    with pytest.raises(InputError, match="doesn't have a resource type"):
        kube.resource("deploymentz")


def test_get_columns_and_manifests_round_trip() -> None:
    cluster = kube.run_pod(empty(), "default", "nginx", {"app": "nginx"}, [(80, Protocol.TCP)])
    cluster, service = kube.expose(cluster, "default", "nginx", 80, None, None, None)
    cluster, _ = kube.apply_objects(cluster, loaded(POLICY))
    rows = views.rows("networkpolicy", cluster, {"default"}, (), {}, set(), False, False, "n")
    assert rows == [["NAME", "POD-SELECTOR", "AGE"], ["access-nginx", "app=nginx", "<unknown>"]]
    rows = views.rows("service", cluster, None, (), {}, set(), True, False, "n")
    assert rows[0] == ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE",
                       "SELECTOR"]
    assert ["kube-system", "kube-dns", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP",
            "<unknown>", "k8s-app=kube-dns"] in rows
    pods = views.rows("pod", cluster, {"default"}, (), {}, {"default/nginx"}, True, False, "n")
    assert pods[1][:3] == ["nginx", "1/1", "Running"]
    assert views.table([["A", "BB"], ["ccc", "d"]]) == "A     BB\nccc   d\n"
    assert views.age(100.0, 100.0 + 45) == "45s" and views.age(0.0, 3 * 86400.0) == "3d"
    # what get -o yaml prints reads back to the same objects
    nginx = cluster.endpoint("default/nginx")
    assert nginx is not None
    text = yaml.safe_dump_all([policy_manifest(cluster.policies[0]), pod_manifest(nginx),
                               service_manifest(service)])
    again, changes = kube.apply_objects(cluster, loaded(text))
    # (the Service too, once the reader reads Services)
    assert all(c.action == "unchanged" for c in changes)
    assert {c.kind for c in changes} >= {"NetworkPolicy", "Pod"}
    assert again.policies == cluster.policies and again.endpoints == cluster.endpoints


def test_describe_is_kubectls_layout_with_podwalls_words() -> None:
    cluster = kube.run_pod(empty(), "default", "nginx", {"app": "nginx"}, [(80, Protocol.TCP)])
    cluster, _ = kube.apply_objects(cluster, loaded(POLICY))
    text = views.describe_policy(cluster.policies[0], cluster, 0.0)
    assert text.startswith("Name:         access-nginx\nNamespace:    default\n")
    assert "  Allowing ingress traffic:\n    To Port: 80/TCP\n    From:\n" in text
    assert "      NamespaceSelector: team=a\n      PodSelector: access=true\n" in text
    assert "  Not affecting egress traffic\n  Policy Types: Ingress\n" in text
    assert "  Selects:   1 endpoint: default/nginx\n" in text
    assert "ingress[0]: from pods with access=true in namespaces with team=a" in text


def test_kubectl_verbs_keep_audited_and_cluster_policies() -> None:
    """The lab's verbs rebuild the snapshot: audited NetworkPolicies and cluster policies must
    survive every rebuild (they are not in `Cluster.policies`)."""
    from pathlib import Path

    root = Path(__file__).parents[2]
    audit = load_cluster([str(root / "tests/fixtures/manifests/audit")]).cluster
    tiers = load_cluster([str(root / "examples/cluster-tiers")]).cluster
    assert audit.audited and tiers.cluster_policies
    for cluster in (audit, tiers):
        relabelled, _ = kube.label(cluster, "pod", cluster.endpoints[0].namespace,
                                   cluster.endpoints[0].name, ["pw-test=1"])
        with_dns = svcs.with_cluster_dns(relabelled)
        for after in (relabelled, with_dns):
            assert [p.key for p in after.audited] == [p.key for p in cluster.audited]
            assert after.cluster_policies == cluster.cluster_policies
    applied, changes = kube.apply_objects(audit, tiers)
    assert applied.cluster_policies == tiers.cluster_policies and applied.audited == audit.audited
    assert {c.kind for c in changes if c.action == "created"} >= {"ClusterNetworkPolicy"}
