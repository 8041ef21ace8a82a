"""Pods, workloads, Namespaces and whole documents: the API server's rules for the fields podwall
reads, at the exact field path and line."""

from __future__ import annotations

import ipaddress

import pytest

from podwall.errors import Severity
from podwall.model import ContainerPort, Protocol
from tests.manifests.helpers import errors_of, load_text, only, warnings_of

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\n"  # 5 lines
CONTAINER = "spec:\n  containers:\n  - name: c\n    ports:\n"  # ports items from line 10

CASES = {
    "containerPort absent": (
        POD + CONTAINER + "    - name: http\n",
        "spec.containers[0].ports[0].containerPort", 10, "Required value"),
    "containerPort 0": (
        POD + CONTAINER + "    - containerPort: 0\n",
        "spec.containers[0].ports[0].containerPort", 10, "Required value"),
    "containerPort too high": (
        POD + CONTAINER + "    - containerPort: 70000\n",
        "spec.containers[0].ports[0].containerPort", 10,
        "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    "containerPort a string": (
        POD + CONTAINER + "    - containerPort: '80'\n",
        "spec.containers[0].ports[0].containerPort", 10, 'Invalid value: "string": expected integer'),
    "hostPort too high": (
        POD + CONTAINER + "    - {containerPort: 80, hostPort: 65536}\n",
        "spec.containers[0].ports[0].hostPort", 10, "Invalid value: 65536: must be between 1"),
    "container protocol in lower case": (
        POD + CONTAINER + "    - {containerPort: 80, protocol: tcp}\n",
        "spec.containers[0].ports[0].protocol", 10,
        'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'),
    "container port name with capitals": (
        POD + CONTAINER + "    - containerPort: 80\n      name: Web\n",
        "spec.containers[0].ports[0].name", 11,
        'Invalid value: "Web": must contain only alpha-numeric characters'),
    "container port name too long": (
        POD + CONTAINER + "    - {containerPort: 80, name: metrics-endpoint}\n",
        "spec.containers[0].ports[0].name", 10, "must be no more than 15 characters"),
    "duplicate port names in one container": (
        POD + CONTAINER + "    - {containerPort: 80, name: web}\n    - {containerPort: 81, name: web}\n",
        "spec.containers[0].ports[1].name", 11, 'Duplicate value: "web"'),
    "duplicate port names in an init container": (
        POD + "spec:\n  initContainers:\n  - name: i\n    ports:\n"
        "    - {containerPort: 80, name: web}\n    - {containerPort: 81, name: web}\n",
        "spec.initContainers[0].ports[1].name", 11, 'Duplicate value: "web"'),
    "containers of the wrong type": (
        POD + "spec:\n  containers: {name: c}\n",
        "spec.containers", 7, 'Invalid value: "object": expected array'),
    "ports of the wrong type": (
        POD + CONTAINER[:-1] + " 80\n",
        "spec.containers[0].ports", 9, 'Invalid value: "integer": expected array'),
    "a pod IP that is not an IP": (
        POD + "status:\n  podIP: 10.0.0.300\n",
        "status.podIP", 7,
        'Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
    "a pod name with capitals": (
        POD.replace("name: p", "name: P"),
        "metadata.name", 4, "a lowercase RFC 1123 subdomain"),
    "a pod label with a bad value": (
        POD + "  labels:\n    app: -web\n",
        "metadata.labels", 7, 'Invalid value: "-web": a valid label must be'),
    "a workload template label with a bad value": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    metadata:\n      labels:\n        app: 'a b'\n",
        "spec.template.metadata.labels", 8, 'Invalid value: "a b"'),
    "a CronJob template label with a bad key": (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n"
        "    spec:\n      template:\n        metadata:\n          labels: {'a b': c}\n",
        "spec.jobTemplate.spec.template.metadata.labels", 9, 'Invalid value: "a b"'),
    "a workload template container port": (
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: c\n        ports: [{containerPort: 0}]\n",
        "spec.template.spec.containers[0].ports[0].containerPort", 9, "Required value"),
    "a container without a name": (  # validateContainers: every container needs a name
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - ports: [{containerPort: 80}]\n",
        "spec.containers[0].name", 6, "Required value"),
    "a workload without a template": (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  selector: {}\n",
        "spec.template", 4, "Required value"),
    "a workload template of the wrong type": (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template: []\n",
        "spec.template", 5, 'Invalid value: "array": expected object'),
    "a CronJob name longer than 52": (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: " + "c" * 53 + "\n"
        "spec: {jobTemplate: {spec: {template: {}}}}\n",
        "metadata.name", 4, "must be no more than 52 characters"),
    "a Namespace name with a dot": (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: has.dot\n",
        "metadata.name", 4, 'Invalid value: "has.dot": must not contain dots'),
    "a Namespace name too long": (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + "n" * 64 + "\n",
        "metadata.name", 4, "must be no more than 63 characters"),
    "a Namespace without a name": (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  labels: {a: b}\n",
        "metadata.name", 3, "Required value: name or generateName is required"),
    "a Namespace label with a bad key": (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n  labels:\n    _a: b\n",
        "metadata.labels", 6, 'Invalid value: "_a"'),
    "a document that is not a mapping": (
        "- apiVersion: v1\n- kind: Pod\n", None, 1, 'Invalid value: "array": expected object'),
    "a document without kind": (
        "apiVersion: v1\nmetadata: {name: x}\n", "kind", 1, "Required value: kind is not set"),
    "a document without apiVersion": (
        "kind: Pod\nmetadata: {name: x}\n", "apiVersion", 1, "Required value: apiVersion is not set"),
    "a kind that is not a string": (
        "apiVersion: v1\nkind: [Pod]\n", "kind", 2, 'Invalid value: "array": expected string'),
}


@pytest.mark.parametrize(("doc", "path", "line", "message"), list(CASES.values()), ids=list(CASES))
def test_object_rule(doc: str, path: str | None, line: int, message: str) -> None:
    d = only(errors_of(doc))
    assert (d.path, d.line) == (path, line), str(d)
    assert message in d.message, str(d)


def test_the_object_is_named_in_each_diagnostic() -> None:
    assert only(errors_of(CASES["containerPort 0"][0])).obj == "Pod a/p"
    assert only(errors_of(CASES["a Namespace name with a dot"][0])).obj == "Namespace has.dot"
    assert only(errors_of(CASES["a workload without a template"][0])).obj == "DaemonSet default/d"


def test_the_same_port_name_in_two_containers_is_a_warning() -> None:
    """The API server checks names per container; a named policy port then matches both."""
    result = load_text(POD + CONTAINER + "    - {containerPort: 80, name: web}\n"
                       "  - name: d\n    ports:\n    - {containerPort: 81, name: web}\n")
    d = only(list(result.diagnostics))
    assert (d.severity, d.path, d.line) == (Severity.WARNING, "spec.containers[1].ports[0].name", 13)
    assert "also used by spec.containers[0].ports[0]" in d.message
    assert {p.port for p in result.cluster.endpoints[0].ports} == {80, 81}


def test_a_duplicate_port_definition_is_the_api_servers_warning() -> None:
    d = only(warnings_of(POD + CONTAINER + "    - containerPort: 80\n"
                         "  - name: d\n    ports:\n    - containerPort: 80\n"))
    assert (d.path, d.line) == ("spec.containers[1].ports[0]", 13)
    assert d.message == "duplicate port definition with spec.containers[0].ports[0]"


def test_unknown_container_fields_are_errors_and_the_subtrees_podwall_ignores_are_not_checked(
        ) -> None:
    result = load_text(POD + CONTAINER + "    - {containerPort: 80, hostIP: 0.0.0.0, hostPort: 8080,"
                       " targetPort: 9}\n    image: nginx\n    whatever: {x: 1}\n"
                       "    env: [{name: A, vaule: b}]\n  hostNetwork: true\n"
                       "  volumes: [{name: v, emptyDir: {sizeLimt: 1}}]\n")
    found = {(d.severity, d.path, d.line, d.message) for d in result.diagnostics}
    assert found == {
        (Severity.ERROR, "spec.containers[0].ports[0].targetPort", 10,
         'unknown field "targetPort"'),
        (Severity.ERROR, "spec.containers[0].whatever", 12, 'unknown field "whatever"'),
    }
    assert not result.cluster.endpoints


def test_pod_ports_and_ip() -> None:
    result = load_text(POD + "  labels: {app: web}\n" + CONTAINER
                       + "    - {containerPort: 8080, name: http}\n    - {containerPort: 53, "
                       "protocol: UDP}\n  initContainers:\n  - name: sidecar\n"
                       "    restartPolicy: Always\n    ports: [{containerPort: 9090, name: metrics}]\n"
                       "  - name: setup\n    ports: [{containerPort: 1}]\nstatus:\n  podIP: 10.1.2.3\n")
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    (ep,) = result.cluster.endpoints
    assert (ep.kind, ep.key, dict(ep.labels)) == ("Pod", "a/p", {"app": "web"})
    assert ep.ports == (ContainerPort(53, Protocol.UDP), ContainerPort(8080, Protocol.TCP, "http"),
                        ContainerPort(9090, Protocol.TCP, "metrics"))  # not the plain init container
    assert ep.ip == ipaddress.ip_address("10.1.2.3") and not ep.ip_assigned
    assert ep.source is not None and (ep.source.file, ep.source.line) == ("<stdin>", 1)


def test_a_namespace_keeps_its_labels_and_gets_its_name_label() -> None:
    result = load_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n"
                       "  labels: {team: a}\n")
    ns = result.cluster.namespaces["prod"]
    assert dict(ns.labels) == {"team": "a", "kubernetes.io/metadata.name": "prod"}
    assert not ns.implied


def test_other_kinds_are_skipped_with_info() -> None:
    result = load_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
    d = only(list(result.diagnostics))
    assert d.severity is Severity.INFO
    assert d.message == "skipped: kind ConfigMap is not used by podwall"


def test_a_known_kind_of_an_old_api_version_is_skipped_with_a_warning() -> None:
    result = load_text("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n")
    d = only(list(result.diagnostics))
    assert (d.severity, d.path) == (Severity.WARNING, "apiVersion")
    assert not result.cluster.endpoints


def test_the_same_name_twice_is_a_warning_and_the_last_one_wins_as_kubectl_apply_leaves_it(
        ) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: x, labels: {v: '%s'}}\n"
    deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {}}\n"
    result = load_text(pod % "1" + "---\n" + pod % "2" + "---\n" + pod % "3")
    (ep,) = result.cluster.endpoints
    assert ep.kind == "Pod" and ep.labels["v"] == "3"
    duplicates = [d for d in result.diagnostics if "duplicate object" in d.message]
    assert [(d.severity, d.line, d.obj) for d in duplicates] == [
        (Severity.WARNING, 5, "Pod default/x"), (Severity.WARNING, 9, "Pod default/x")]
    assert duplicates[0].message == ("duplicate object: Pod default/x at <stdin>:1 has the same "
                                     "name; this one, the last, is used (as kubectl apply -f "
                                     "leaves it)")
    assert "Pod default/x at <stdin>:5 has the same name" in duplicates[1].message
    # a workload and a pod of one name would both be default/x to every query: the last one too
    result = load_text(pod % "1" + "---\n" + deployment)
    (ep,) = result.cluster.endpoints
    assert ep.kind == "Deployment"
    (d,) = result.diagnostics
    assert d.obj == "Deployment default/x" and "Pod default/x at <stdin>:1" in d.message


def test_a_duplicate_policy_or_namespace_keeps_the_last_and_its_place() -> None:
    policy = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: p, namespace: a}\nspec: {podSelector: {matchLabels: {v: '%s'}}}\n"
              "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {v: '%s'}}\n")
    result = load_text(policy % (1, 1) + "---\n" + policy % (2, 2))
    (pol,) = result.cluster.policies
    assert dict(pol.pod_selector.match_labels) == {"v": "2"}
    assert result.cluster.namespaces["a"].labels["v"] == "2"
    assert len([d for d in result.diagnostics if "duplicate object" in d.message]) == 2


def test_the_same_policy_name_in_two_namespaces_is_fine() -> None:
    policy = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: p, namespace: %s}\nspec: {podSelector: {}}\n")
    result = load_text(policy % "a" + "---\n" + policy % "b" + "---\n" + policy % "a")
    assert [p.key for p in result.cluster.policies] == ["a/p", "b/p"]
    assert [d.line for d in result.diagnostics] == [11]
