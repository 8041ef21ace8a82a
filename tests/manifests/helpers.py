"""Helpers shared by the manifest tests: load text as stdin, pick diagnostics by severity."""

from __future__ import annotations

from podwall.errors import Diagnostic, Severity
from podwall.manifests import LoadResult, load_cluster

POLICY_HEADER = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
"""  # `spec:` is line 6; the spec body starts on line 7


def load_text(text: str, *, namespace: str = "default", pod_cidr: str = "10.244.0.0/16") -> LoadResult:
    return load_cluster(["-"], stdin_text=text, namespace=namespace, pod_cidr=pod_cidr)


def of_severity(result: LoadResult, severity: Severity) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.severity is severity]


def errors_of(text: str) -> list[Diagnostic]:
    return of_severity(load_text(text), Severity.ERROR)


def warnings_of(text: str) -> list[Diagnostic]:
    return of_severity(load_text(text), Severity.WARNING)


def only(diags: list[Diagnostic]) -> Diagnostic:
    assert len(diags) == 1, [str(d) for d in diags]
    return diags[0]
