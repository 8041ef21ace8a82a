"""The network-policy-api conformance suite in the kernel: its base topology (four houses, two
pods each) as a lab, real nftables, real probes; a representative subset of the transcribed
cases (tests/conformance/test_npapi_*) swapped in one after another with the lab's atomic apply.

For each case the kernel must give upstream's expected answer on every probe of the case, and
`lab verify` must find the kernel equal to the model on every pair of pods for the case's ports
(so the cases' unprobed pairs are held too). Root only; the lab is torn down passing or failing.

SCTP: this machine's kernel has no SCTP sockets (FIELD-NOTES), so the lab serves and probes no
SCTP port and says so; the SCTP case then asserts that note instead of answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from podwall.errors import Severity
from podwall.lab.lab import Lab, Verification, sctp_supported
from podwall.manifests import load_cluster
from podwall.model import Cluster, PortQuery
from tests.conformance.npapi import Probe, base_yaml, pod
from tests.conformance.npapi_rules import (
    TCP80,
    G,
    H,
    R,
    S,
    named,
    number,
    one_direction,
    port_range_policy,
    three_houses,
)
from tests.conformance.test_npapi_baseline_cases import baseline_ingress_tcp
from tests.conformance.test_npapi_cases import INGRESS_TCP_RULES, ingress_tcp, integration
from tests.lab.test_lab import lab  # noqa: F401 - the fixture

pytestmark = pytest.mark.kernel

Case = tuple[str, Sequence[str], Sequence[Probe]]  # upstream test, manifests, probes

CASES: list[Case] = [
    ("CNPAdminTierIngressTCP", [ingress_tcp(INGRESS_TCP_RULES)], [
        (pod(R, 0), pod(G, 0), "TCP/80", True),     # Accept before Deny
        (pod(R, 1), pod(G, 0), "TCP/8080", True),
        (pod(H, 0), pod(G, 1), "TCP/80", True),     # Accept at the port
        (pod(H, 1), pod(G, 1), "TCP/8080", False),  # Deny the rest
        (pod(S, 0), pod(G, 0), "TCP/80", False),    # Deny at the port
        (pod(S, 1), pod(G, 0), "TCP/8080", True),   # no rule matches
    ]),
    ("CNPAdminTierEgressUDP", [one_direction(
        "egress-udp", "Admin", 7, H, "egress",
        three_houses("egress", "Admin", R, S, G, f"[{number('UDP', 5353)}]",
                     f"[{number('UDP', 53)}]"))], [
        (pod(H, 0), pod(R, 0), "UDP/53", True),
        (pod(H, 1), pod(R, 0), "UDP/5353", True),
        (pod(H, 0), pod(G, 1), "UDP/53", True),
        (pod(H, 1), pod(G, 1), "UDP/5353", False),
        (pod(H, 0), pod(S, 0), "UDP/5353", False),
        (pod(H, 1), pod(S, 0), "UDP/53", True),
    ]),
    ("CNPAdminTierIntegration (Pass, then the NetworkPolicy)", integration("Pass", "Pass"), [
        (pod(S, 0), pod(G, 0), "TCP/80", True),
        (pod(S, 1), pod(G, 0), "TCP/8080", True),
        (pod(G, 0), pod(S, 0), "TCP/80", True),
        (pod(G, 1), pod(S, 0), "TCP/8080", True),
    ]),
    ("CNPAdminTierIntegration (Pass, then the Baseline)",
     integration("Pass", "Pass", with_np=False), [
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(S, 1), pod(G, 0), "TCP/8080", False),
        (pod(G, 0), pod(S, 0), "TCP/80", False),
        (pod(G, 1), pod(S, 0), "TCP/8080", False),
    ]),
    ("CNPBaselineTierIngressNamedPort", [baseline_ingress_tcp([
        *three_houses("ingress", "Baseline", R, S, H, TCP80, named("web"))])], [
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(H, 0), pod(G, 1), "TCP/80", True),     # index3 on the named port `web`
        (pod(H, 1), pod(G, 1), "TCP/8080", False),
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(S, 1), pod(G, 0), "TCP/8080", True),
    ]),
    ("CNPAdminTierPortRange", [port_range_policy("Admin")], [
        (pod(G, 0), pod(R, 0), "TCP/80", True),
        (pod(G, 0), pod(R, 0), "TCP/8080", True),
        (pod(G, 1), pod(R, 0), "UDP/53", False),
        (pod(G, 0), pod(H, 0), "UDP/53", True),
        (pod(G, 0), pod(H, 0), "UDP/5353", True),
        (pod(G, 1), pod(H, 0), "TCP/80", False),
        (pod(R, 0), pod(G, 0), "TCP/8080", True),
        (pod(H, 1), pod(G, 0), "TCP/80", False),
    ]),
]

SCTP_CASE: Case = ("CNPAdminTierEgressSCTP", [one_direction(
    "egress-sctp", "Admin", 8, R, "egress",
    three_houses("egress", "Admin", G, S, H, f"[{number('SCTP', 9003)}]",
                 f"[{number('SCTP', 9003)}]"))], [
    (pod(R, 0), pod(G, 0), "SCTP/9003", True),
    (pod(R, 0), pod(H, 1), "SCTP/9003", True),
    (pod(R, 1), pod(H, 1), "SCTP/9005", False),
    (pod(R, 0), pod(S, 0), "SCTP/9003", False),
])


def cluster_of(docs: Sequence[str]) -> Cluster:
    text = "---\n".join([base_yaml(), *docs])
    result = load_cluster(["-"], stdin_text=text, pod_cidr="10.10.0.0/16")
    errors = [str(d) for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, errors
    return result.cluster


def kernel_says(result: Verification, probes: Sequence[Probe]) -> list[str]:
    """The probes on which the kernel does not give upstream's expected answer."""
    m = result.kernel.matrix
    wrong = []
    for src, dst, port_text, expected in probes:
        port = PortQuery.parse(port_text)
        got = m.is_allowed(port, m.endpoints.index(src), m.endpoints.index(dst))
        if got != expected:
            wrong.append(f"{src} -> {dst} {port}: upstream expects "
                         f"{'allowed' if expected else 'denied'}, the kernel "
                         f"{'allowed' if got else 'denied'}")
    return wrong


def test_npapi_cases_in_the_kernel(lab: Lab) -> None:  # noqa: F811
    lab.up(cluster_of([]))
    cases = [*CASES, SCTP_CASE] if sctp_supported() else CASES
    failures: list[str] = []
    for name, docs, probes in cases:
        lab.apply(cluster_of(docs))  # the ruleset swaps in one transaction
        result = lab.verify(sorted({PortQuery.parse(p) for _, _, p, _ in probes}))
        failures += [f"{name}: kernel != model: {d.src} -> {d.dst} {d.port}: kernel "
                     f"{d.outcome}, model {'allowed' if d.verdict.allowed else 'denied'}"
                     for d in result.disagreements[:5]]
        failures += [f"{name}: {w}" for w in kernel_says(result, probes)]
    assert not failures, "\n".join(failures)
    if not sctp_supported():
        name, docs, probes = SCTP_CASE
        lab.apply(cluster_of(docs))
        result = lab.verify([PortQuery.parse(p) for _, _, p, _ in probes])
        assert result.kernel.matrix.ports == ()  # nothing probed, nothing claimed
        assert any("SCTP is not supported by this kernel" in n for n in result.kernel.notes)
