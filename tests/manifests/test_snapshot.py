"""Snapshots of a live cluster: each app once (its running pods), controllers resolve to them;
a repository of manifests keeps one endpoint per workload."""

from __future__ import annotations

import json
from pathlib import Path

from podwall.errors import Severity
from podwall.manifests import load_cluster
from podwall.model import build_cluster
from podwall.model.labels import Labels
from podwall.model.snapshot import split_snapshot
from podwall.model.workloads import Endpoint

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = str(ROOT / "tests" / "fixtures" / "snapshot" / "get-all.json")


def test_a_get_all_snapshot_holds_each_app_once() -> None:
    result = load_cluster([SNAPSHOT])
    keys = [ep.key for ep in result.cluster.endpoints]
    assert keys == ["kube-system/coredns-5d78c9869d-7xq2m", "kube-system/coredns-5d78c9869d-kd9wz",
                    "shop/api-5f7c9d6b4-a1b2c", "shop/api-5f7c9d6b4-pend1",
                    "shop/web-7d9f8b6c5d-q9m4z", "shop/web-7d9f8b6c5d-x7k2p"]
    assert all(ep.kind == "Pod" for ep in result.cluster.endpoints)
    # the Deployments, the current and the old (scaled to 0) ReplicaSets, and the Job whose pod
    # has finished are not endpoints; the names still resolve to the running pods
    controllers = {(c.kind, c.key) for c in result.cluster.controllers}
    assert ("Deployment", "shop/web") in controllers
    assert ("ReplicaSet", "shop/web-6c4b7f9d8") in controllers
    assert ("Job", "shop/migrate") in controllers
    members = result.cluster.members
    assert [ep.key for ep in members("shop/web")] == ["shop/web-7d9f8b6c5d-q9m4z",
                                                     "shop/web-7d9f8b6c5d-x7k2p"]
    assert [ep.key for ep in members("shop/web-7d9f8b6c5d")] == [ep.key for ep in members("shop/web")]
    assert members("shop/web-6c4b7f9d8") == () and members("shop/migrate") == ()


def test_finished_pods_are_not_endpoints_and_say_so() -> None:
    result = load_cluster([SNAPSHOT], namespace="default")
    assert result.cluster.endpoint("shop/migrate-x8s7d") is None
    notes = [d for d in result.diagnostics if d.obj == "Pod shop/migrate-x8s7d"]
    assert [d.severity for d in notes] == [Severity.INFO] and "Succeeded" in notes[0].message


def test_a_live_pod_without_an_ip_is_flagged_not_silently_given_one() -> None:
    result = load_cluster([SNAPSHOT])
    pending = result.cluster.endpoint("shop/api-5f7c9d6b4-pend1")
    assert pending is not None and pending.ip_assigned
    warning = [d for d in result.diagnostics if d.obj == "Pod shop/api-5f7c9d6b4-pend1"]
    assert len(warning) == 1 and warning[0].severity is Severity.WARNING
    assert warning[0].path == "status.podIP" and str(pending.ip) in warning[0].message
    # a pod with its IP is not flagged
    assert not [d for d in result.diagnostics if d.obj == "Pod shop/api-5f7c9d6b4-a1b2c"]


def test_a_repository_keeps_one_endpoint_per_workload(tmp_path: Path) -> None:
    """No status, no owners: today's behaviour, the Deployment is the endpoint."""
    data = json.loads(Path(SNAPSHOT).read_text())
    repo = [item for item in data["items"] if item["kind"] == "Deployment"]
    for item in repo:
        del item["status"]
    path = tmp_path / "repo.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": repo}))
    result = load_cluster([str(path)])
    assert [ep.key for ep in result.cluster.endpoints] == ["kube-system/coredns", "shop/api",
                                                          "shop/web"]
    assert result.cluster.controllers == ()
    assert not result.diagnostics


def test_a_live_controller_without_pods_in_the_input_stays_an_endpoint_when_there_are_no_pods(
        tmp_path: Path) -> None:
    """`kubectl get deploy -A -o json`: live controllers, no pods at all: each is an endpoint."""
    data = json.loads(Path(SNAPSHOT).read_text())
    deployments = [item for item in data["items"] if item["kind"] == "Deployment"]
    path = tmp_path / "deploy.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": deployments}))
    result = load_cluster([str(path)])
    assert [ep.key for ep in result.cluster.endpoints] == ["kube-system/coredns", "shop/api",
                                                          "shop/web"]


def _ep(name: str, kind: str, **kw: object) -> Endpoint:
    return Endpoint("ns", name, Labels({"app": name}), kind=kind, **kw)  # type: ignore[arg-type]


def test_the_rule_object_by_object() -> None:
    diags: list = []  # type: ignore[type-arg]
    split = split_snapshot([
        _ep("cron", "CronJob", live=True),
        _ep("cron-1", "Job", owners=(("CronJob", "cron"),), live=True),
        _ep("cron-1-x", "Pod", owners=(("Job", "cron-1"),), phase="Running"),
        _ep("idle", "ReplicaSet", replicas=0, live=True),
        _ep("failed", "Pod", phase="Failed"),
        _ep("bare", "Pod", phase="Running"),
        _ep("orphan-rs", "ReplicaSet", owners=(("Deployment", "gone"),), replicas=1),
        _ep("new-app", "Deployment"),  # a manifest beside the snapshot: still an endpoint
    ], diags)
    assert sorted(ep.name for ep in split.endpoints) == ["bare", "cron-1-x", "new-app",
                                                       "orphan-rs"]
    assert sorted(ep.name for ep in split.controllers) == ["cron", "cron-1", "idle"]
    cluster = build_cluster([], [*split.endpoints, *split.controllers], [])
    assert [ep.key for ep in cluster.members("ns/cron")] == ["ns/cron-1-x"]
