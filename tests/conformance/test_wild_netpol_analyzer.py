"""podwall against np-guard/netpol-analyzer's own test inputs and expected `list` outputs.

Inputs we did not write (tests/fixtures/wild/<case>/, each with a SOURCE naming the repository,
paths and commits; the YAML keeps the CRLF line ends it is stored with), held to an independent
oracle. `tests.conformance.connlist` translates netpol-analyzer's lines (`ns/name[Kind]`,
`first-last[External]`, `All Connections`, `All but: ...`) and computes podwall's answer for every
pair, every piece of the address space and every port, through `Engine.matrix` and through
`podwall exposure`.

Where the two differ by design, the case says so with the reference that decides it:

- netpol-analyzer ignores `nodes` peers and IPv6 `networks` with a warning ("unsupported");
  podwall reports nodes peers as undecidable offline (matrix shows them as matching nothing,
  which is netpol-analyzer's answer too) and evaluates IPv6 networks. The expected files list
  IPv4 ranges only, so the comparison asks about IPv4 addresses only.
- anp_test_10 writes `pods: {namespaceSelector: ...}` without `podSelector`. The
  AdminNetworkPolicy CRD requires both: "Required - `namespaceSelector` - `podSelector`"
  (policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy, `.spec.egress[].to[].pods`; in
  apis/v1alpha1 `PodSelector metav1.LabelSelector \\`json:"podSelector"\\``, no omitempty).
  The API server rejects the object; netpol-analyzer reads the missing selector as empty.
  podwall is as strict as the API server, so the case is an error with a field path here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from podwall.errors import Severity
from podwall.manifests import load_cluster
from tests.conformance.connlist import disagreements, exposure_disagreements

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"

AGREEING = [
    # AdminNetworkPolicy Allow/Deny on networks + pods, a port range, a number and a namedPort
    # that resolves on one destination only (UDP 80 there)
    "anp_test_named_ports_multiple_peers",
    # Admin Allow/Deny/Pass with nodes (undecidable), networks and pods peers
    "anp_and_banp_using_networks_and_nodes_test",
    # Admin Pass down to the Baseline: "All but: UDP 80"
    "anp_with_banp_pass_test",
    # unmatched namedPort, IPv6 networks, nodes; Baseline denying 0.0.0.0/0 and a namespace
    "anp_banp_test_multiple_warnings",
]


@pytest.mark.parametrize("case", AGREEING)
def test_matrix_agrees_with_netpol_analyzer(case: str) -> None:
    assert disagreements(WILD / case) == []


@pytest.mark.parametrize("case", AGREEING)
def test_exposure_agrees_with_netpol_analyzer(case: str) -> None:
    # Before exposure cut the outside at cluster policies' `networks`, this answered
    # "ns1/pod1 -> everything, not isolated" where an Admin rule denies 104.154.164.160.
    assert exposure_disagreements(WILD / case) == []


@pytest.mark.parametrize("edit", [
    ("All but: UDP 80", "All but: UDP 81"),
    ("ns2/pod1[Deployment] => 0.0.0.0-255.255.255.255 : All Connections\n", ""),
    ("ns1/pod1[Deployment]", "ns1/pod1[StatefulSet]"),
])
def test_the_comparison_can_fail(tmp_path: Path, edit: tuple[str, str]) -> None:
    case = tmp_path / "case"
    shutil.copytree(WILD / "anp_with_banp_pass_test", case)
    expected = case / "expected_connlist.txt"
    text = expected.read_text()
    assert edit[0] in text
    expected.write_text(text.replace(edit[0], edit[1], 1))
    assert disagreements(case)
    if edit[1] == "":
        assert exposure_disagreements(case)


def test_anp_test_10_is_rejected_as_the_api_server_would() -> None:
    result = load_cluster([str(WILD / "anp_test_10")], implied=False)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert [(d.path, d.message) for d in errors] == [
        (f"spec.egress[{i}].to[0].pods.podSelector", "Required value") for i in range(7)]
    assert all(d.file and d.file.endswith("anp.yaml") and d.line for d in errors)
