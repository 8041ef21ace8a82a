"""The `podwall.io/enforcement` annotation: read into the model, an unknown value is an error."""

from __future__ import annotations

import pytest

from podwall.lab import snapshot
from podwall.model import Enforcement
from tests.manifests.helpers import errors_of, load_text, only


def policy(name: str, annotation: str | None, namespace: str = "shop") -> str:
    notes = (f"  annotations:\n    podwall.io/enforcement: {annotation}\n"
             if annotation is not None else "")
    return (f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  name: {name}\n  namespace: {namespace}\n{notes}spec:\n  podSelector: {{}}\n")


def test_audited_policies_wait_beside_the_enforced_ones() -> None:
    result = load_text(policy("deny-all", "audit") + policy("allow", None) +
                       policy("explicit", "enforce"))
    cluster = result.cluster
    assert [p.key for p in cluster.policies] == ["shop/allow", "shop/explicit"]
    assert [p.key for p in cluster.audited] == ["shop/deny-all"]
    assert cluster.audited[0].enforcement is Enforcement.AUDIT
    assert [p.key for p in cluster.all_policies] == ["shop/allow", "shop/deny-all",
                                                     "shop/explicit"]
    view = cluster.audit_view()
    assert [p.key for p in view.policies] == ["shop/allow", "shop/deny-all", "shop/explicit"]
    assert view.audited == () and view.audit_view() is view


def test_without_audited_policies_the_audit_view_is_the_cluster() -> None:
    cluster = load_text(policy("allow", None)).cluster
    assert cluster.audited == () and cluster.audit_view() is cluster


@pytest.mark.parametrize("value", ["Audit", "dry-run", '""', "enforced"])
def test_an_unknown_value_is_an_error_at_the_annotation(value: str) -> None:
    d = only(errors_of(policy("deny-all", value)))
    assert d.path == 'metadata.annotations["podwall.io/enforcement"]'
    assert d.line == 8
    assert "Unsupported value" in d.message and '"audit", "enforce"' in d.message
    assert "evaluates the policy without enforcing it" in d.message  # the hint


def test_the_lab_snapshot_keeps_audited_policies_apart() -> None:
    cluster = load_text(policy("deny-all", "audit") + policy("allow", None)).cluster
    back = snapshot.load(snapshot.dump(cluster))
    assert [p.key for p in back.policies] == ["shop/allow"]
    assert [p.key for p in back.audited] == ["shop/deny-all"]
