"""Reading the cluster-admin tiers from a live cluster: ClusterNetworkPolicy (v1alpha2, or
v1beta1 where only that is served), AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1).

The network-policy-api CRDs are optional: a server without them answers 404 on their lists, which
means no cluster policies (a note, never an error); a user who may not list them gets the RBAC
error every other kind gets (an Admin Deny podwall cannot see would make every answer wrong).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli
from podwall.cluster import ClusterError, applied, read_cluster, resolve, to_cluster, to_list
from podwall.engine import Engine
from podwall.manifests import load_cluster
from podwall.model import PortQuery
from tests.cluster.conftest import as_list_file
from tests.cluster.fake_apiserver import FakeApiServer, kubeconfig, list_response

GROUP = "/apis/policy.networking.k8s.io"
CNP_PATH = f"{GROUP}/v1alpha2/clusternetworkpolicies"
CNP_BETA_PATH = f"{GROUP}/v1beta1/clusternetworkpolicies"
ANP_PATH = f"{GROUP}/v1alpha1/adminnetworkpolicies"
BANP_PATH = f"{GROUP}/v1alpha1/baselineadminnetworkpolicies"
WEB, DB = "shop/web-7d9f8b6c5d-x7k2p", "shop/db-0"
POSTGRES = PortQuery.parse("TCP/5432")


def meta(name: str, version: str = "1001") -> dict[str, Any]:
    """Metadata as the server returns it for a cluster-scoped custom resource."""
    return {"name": name, "uid": f"0b5c-{name}", "resourceVersion": version, "generation": 1,
            "creationTimestamp": "2026-12-01T10:00:00Z"}


# Admin: nobody in shop reaches the database on 5432 (the recorded cluster's NetworkPolicy
# admits web -> db on it), except what a Pass hands back to NetworkPolicy.
CNP = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
       "metadata": meta("db-lockdown"),
       "spec": {"tier": "Admin", "priority": 10,
                "subject": {"pods": {"namespaceSelector": {}, "podSelector": {
                    "matchLabels": {"app": "db"}}}},
                "ingress": [{"name": "no-one", "action": "Deny",
                             "from": [{"namespaces": {}}],
                             "protocols": [{"tcp": {"destinationPort": {"number": 5432}}}]}]},
       "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "SetupSucceeded",
                                  "message": "", "lastTransitionTime": "2026-12-01T10:00:01Z"}]}}
ANP = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
       "metadata": meta("no-metadata-server"),
       "spec": {"priority": 5, "subject": {"namespaces": {}},
                "egress": [{"name": "metadata", "action": "Deny",
                            "to": [{"networks": ["169.254.169.254/32"]}]}]},
       "status": {"conditions": []}}
BANP = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
        "metadata": meta("default"),
        "spec": {"subject": {"namespaces": {"matchLabels": {
            "kubernetes.io/metadata.name": "local-path-storage"}}},
                 "ingress": [{"name": "closed", "action": "Deny", "from": [{"namespaces": {}}]}]}}


def served(recorded: dict[str, Any], *, beta: bool = False) -> dict[str, Any]:
    lists = dict(recorded)
    cnp = list_response("ClusterNetworkPolicy", [CNP])
    if beta:  # an installation of network-policy-api that serves only v1beta1
        cnp = {**cnp, "apiVersion": "policy.networking.k8s.io/v1beta1"}
    lists[CNP_BETA_PATH if beta else CNP_PATH] = cnp
    lists[ANP_PATH] = list_response("AdminNetworkPolicy", [ANP])
    lists[BANP_PATH] = list_response("BaselineAdminNetworkPolicy", [BANP])
    return lists


def read(lists: dict[str, Any], write_kubeconfig: Callable[..., Path],
         **server: Any) -> tuple[Any, FakeApiServer]:
    with FakeApiServer(lists, **server) as fake:
        got = read_cluster(resolve(str(write_kubeconfig(kubeconfig(fake.url)))))
    return got, fake


def test_all_three_kinds_are_read_and_decide(recorded: dict[str, Any],
                                             write_kubeconfig: Callable[..., Path],
                                             tmp_path: Path) -> None:
    got, fake = read(served(recorded), write_kubeconfig)
    assert not got.unserved
    assert {r.path for r in fake.requests} >= {CNP_PATH, ANP_PATH, BANP_PATH}
    stamped = {(o["kind"], o["apiVersion"]) for o in got.objects
               if o["apiVersion"].startswith("policy.networking")}
    assert stamped == {("ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2"),
                       ("AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1"),
                       ("BaselineAdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1")}
    live = to_cluster(got)
    assert [p.key for p in live.cluster.cluster_policies] == [
        "admin/no-metadata-server", "admin/db-lockdown", "baseline/default"]
    assert not [d for d in live.diagnostics if "policy.networking" in d.message]
    engine = Engine(live.cluster)
    denied = engine.check(WEB, DB, POSTGRES)
    assert not denied.allowed
    assert denied.ingress.decided_by is not None
    assert str(denied.ingress.decided_by).startswith("admin/db-lockdown")
    # without the tiers the recorded NetworkPolicy admits it: the live read changed the answer
    assert Engine(to_cluster(read(recorded, write_kubeconfig)[0]).cluster).check(
        WEB, DB, POSTGRES).allowed
    # the snapshot of the read loads as the same cluster
    from_file = load_cluster([str(as_list_file(tmp_path / "c.json", to_list(got)["items"]))])
    assert from_file.cluster == live.cluster


def test_v1beta1_is_read_where_v1alpha2_is_not_served(recorded: dict[str, Any],
                                                      write_kubeconfig: Callable[..., Path]
                                                      ) -> None:
    got, fake = read(served(recorded, beta=True), write_kubeconfig)
    paths = [r.path for r in fake.requests]
    assert paths.index(CNP_PATH) < paths.index(CNP_BETA_PATH)  # v1alpha2 first, then v1beta1
    assert not got.unserved
    cnp = next(o for o in got.objects if o["kind"] == "ClusterNetworkPolicy")
    assert cnp["apiVersion"] == "policy.networking.k8s.io/v1beta1"
    assert got.resource_versions["clusternetworkpolicies.policy.networking.k8s.io"] == "4242"
    policies = to_cluster(got).cluster.cluster_policies
    assert [(p.key, p.api_version) for p in policies if p.kind == "ClusterNetworkPolicy"] == [
        ("admin/db-lockdown", "policy.networking.k8s.io/v1beta1")]


def test_no_crds_is_no_cluster_policies_with_a_note(recorded: dict[str, Any],
                                                    write_kubeconfig: Callable[..., Path]
                                                    ) -> None:
    got, fake = read(recorded, write_kubeconfig)
    assert [k.kind for k in got.unserved] == [
        "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]
    assert {CNP_PATH, CNP_BETA_PATH} <= {r.path for r in fake.requests}
    live = to_cluster(got)
    assert live.cluster.cluster_policies == ()
    notes = [d.message for d in live.diagnostics if "does not serve" in d.message]
    assert notes[0] == (
        "the server does not serve ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2 or "
        "v1beta1): there are none to read (the network-policy-api CRDs are not installed: no "
        "cluster-admin policies apply, and NetworkPolicy alone decides)")
    assert all(str(d.severity) == "info" for d in live.diagnostics if d.message in notes)


def test_forbidden_cluster_policies_are_an_rbac_error(recorded: dict[str, Any],
                                                      write_kubeconfig: Callable[..., Path]
                                                      ) -> None:
    with pytest.raises(ClusterError) as caught:
        read(served(recorded), write_kubeconfig, forbidden={ANP_PATH})
    message = str(caught.value)
    assert "may not list adminnetworkpolicies.policy.networking.k8s.io" in message
    assert "--resource=" in message and "clusternetworkpolicies.policy.networking.k8s.io" in message


def test_diff_cluster_replaces_a_live_cluster_policy(recorded: dict[str, Any],
                                                     write_kubeconfig: Callable[..., Path],
                                                     tmp_path: Path) -> None:
    got, _ = read(served(recorded), write_kubeconfig)
    live = to_cluster(got)
    relaxed = tmp_path / "relaxed.yaml"
    relaxed.write_text("""\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: db-lockdown}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress:
  - {name: shop-decides, action: Pass, from: [{namespaces: {}}]}
""")
    after = applied(live, load_cluster([str(relaxed)]))
    assert [p.key for p in after.cluster.cluster_policies] == [
        "admin/no-metadata-server", "admin/db-lockdown", "baseline/default"]
    assert Engine(after.cluster).check(WEB, DB, POSTGRES).allowed  # Pass: NetworkPolicy admits


@pytest.fixture
def live(recorded: dict[str, Any], write_kubeconfig: Callable[..., Path],
         monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApiServer]:
    with FakeApiServer(served(recorded)) as fake:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(kubeconfig(fake.url))))
        yield fake


def test_the_verbs_answer_with_the_live_tiers(live: FakeApiServer) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["check", "--from", WEB, "--to", DB, "--port", "TCP/5432"],
                           env={"KUBECONFIG": os.environ["KUBECONFIG"]})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"DENIED  {WEB} -> {DB} TCP/5432")
    assert "Deny in admin/db-lockdown ingress[0] (no-one) at priority 10" in result.stdout
    result = runner.invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    # the AdminNetworkPolicy's network is a block of its own in what is outside
    result = runner.invoke(cli, ["exposure", "-n", "shop"])
    assert "\n  b2  169.254.169.254/32\n" in result.stdout
