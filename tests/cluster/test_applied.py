"""`diff --cluster`'s NEW side: the live cluster after `kubectl apply` of some manifests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podwall.cluster import applied
from podwall.manifests import load_cluster


def _load(path: Path, objects: list[dict[str, Any]]) -> Any:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    return load_cluster([str(path)])


def _pod(name: str, labels: dict[str, str], ip: str | None = None) -> dict[str, Any]:
    pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": name, "namespace": "shop", "labels": labels},
                           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    if ip:
        pod["status"] = {"podIP": ip}
    return pod


def test_new_objects_replace_live_ones_of_the_same_name(tmp_path: Path) -> None:
    live = _load(tmp_path / "live.json", [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "shop", "labels": {"team": "a"}}},
        _pod("web", {"app": "web"}, "10.244.0.7"), _pod("db", {"app": "db"}, "10.244.0.9"),
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "deny", "namespace": "shop"}, "spec": {"podSelector": {}}}])
    new = _load(tmp_path / "new.json", [
        _pod("web", {"app": "web", "v": "2"}),  # no IP: keeps the live pod's
        _pod("cache", {"app": "cache"}),  # new: an IP no live pod uses
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "deny", "namespace": "shop"},
         "spec": {"podSelector": {"matchLabels": {"app": "db"}}}}])
    result = applied(live, new).cluster
    assert result.namespace("shop").labels.get("team") == "a"  # only implied in NEW: live stays
    web = result.endpoint("shop/web")
    assert web is not None and dict(web.labels) == {"app": "web", "v": "2"}
    assert str(web.ip) == "10.244.0.7"
    assert str(result.endpoint("shop/db").ip) == "10.244.0.9"  # type: ignore[union-attr]
    cache = result.endpoint("shop/cache")
    assert cache is not None and str(cache.ip) not in {"10.244.0.7", "10.244.0.9"}
    (policy,) = result.policies
    assert dict(policy.pod_selector.match_labels) == {"app": "db"}


def _policy(name: str, enforcement: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "shop"}
    if enforcement is not None:
        meta["annotations"] = {"podwall.io/enforcement": enforcement}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": {"podSelector": {}}}


def test_audited_policies_are_applied_and_stay_audited(tmp_path: Path) -> None:
    live = _load(tmp_path / "live.json", [_pod("web", {"app": "web"}), _policy("dry", "audit"),
                                          _policy("soon", "audit")])
    new = _load(tmp_path / "new.json", [_policy("soon", None), _policy("trial", "audit")])
    result = applied(live, new).cluster
    assert [p.key for p in result.policies] == ["shop/soon"]
    assert [p.key for p in result.audited] == ["shop/dry", "shop/trial"]
