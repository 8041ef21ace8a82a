"""Unknown fields on the paths podwall reads are errors by default (kubectl validates strictly);
valid fields podwall ignores, and the subtrees it does not read, never are."""

from __future__ import annotations

import importlib.util

import pytest

from podwall.errors import Severity
from podwall.manifests import fields
from tests.manifests.helpers import errors_of, load_text

TEMPLATE = ("    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
            "      - name: c\n        image: nginx\n        ports: [{containerPort: 80}]\n")


def _deployment(spec_extra: str = "", template: str = TEMPLATE) -> str:
    return ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
            "spec:\n  replicas: 2\n" + spec_extra + "  template:\n" + template)


def test_valid_fields_podwall_does_not_read_are_accepted() -> None:
    text = _deployment(
        "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}\n"
        "  selector: {matchLabels: {app: web}}\n  revisionHistoryLimit: 3\n",
        TEMPLATE.replace("      containers:\n", "      volumes: [{name: v, emptyDir: {}}]\n"
                         "      serviceAccountName: web\n      containers:\n")
        + "        env: [{name: A, value: b, anything: 1}]\n"
          "        resources: {limits: {cpu: 1}}\n") + "status: {replicas: 2, whatever: 1}\n"
    result = load_text(text)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    assert len(result.cluster.endpoints) == 1


@pytest.mark.parametrize(("text", "path", "message"), [
    (_deployment("  replica: 2\n"), "spec.replica", 'did you mean "replicas"?'),
    (_deployment("", TEMPLATE.replace("    metadata:", "    metdata:")),
     "spec.template.metdata", 'did you mean "metadata"?'),
    (_deployment("", TEMPLATE.replace("      labels:", "      label:")),
     "spec.template.metadata.label", 'did you mean "labels"?'),
    (_deployment("", TEMPLATE.replace("      containers:", "      container:")),
     "spec.template.spec.container", 'did you mean "containers"?'),
    (_deployment("", TEMPLATE.replace("        ports:", "        port:")),
     "spec.template.spec.containers[0].port", 'did you mean "ports"?'),
    ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n"
     "  jobTemplate:\n    spec:\n      templat: {}\n", "spec.jobTemplate.spec.templat",
     'did you mean "template"?'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n"
     "status: {podIp: 10.0.0.1}\n", "status.podIp", 'did you mean "podIP"?'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n"
     "containers: []\n", "containers", 'did you mean "spec.containers" (indented one level'),
    ("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns, lables: {a: b}}\n",
     "metadata.lables", 'did you mean "labels"?'),
    ("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\nspec: {finalizer: []}\n",
     "spec.finalizer", 'did you mean "finalizers"?'),
])
def test_an_unknown_field_is_an_error_with_its_path_and_a_hint(text: str, path: str,
                                                               message: str) -> None:
    errors = [d for d in errors_of(text) if "unknown field" in d.message]
    assert [d.path for d in errors] == [path], [str(d) for d in errors]
    assert message in errors[0].message


def test_objects_podwall_skips_are_not_checked() -> None:
    result = load_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, colour: x}\n"
                       "dta: {a: b}\n")
    assert [d.severity for d in result.diagnostics] == [Severity.INFO]


LIGHTKUBE = importlib.util.find_spec("lightkube.models") is not None


@pytest.mark.skipif(not LIGHTKUBE, reason="lightkube-models is not installed: the field lists "
                    "are not compared with its OpenAPI")
def test_the_field_lists_are_the_openapi_schemas() -> None:
    import msgspec
    from lightkube.models import apps_v1, batch_v1, core_v1, meta_v1, networking_v1

    def names(model: type) -> frozenset[str]:
        return frozenset(f.encode_name for f in msgspec.structs.fields(model))

    assert names(meta_v1.ObjectMeta) == fields.OBJECT_META
    assert fields.OBJECT == names(core_v1.Pod) == names(apps_v1.Deployment)
    assert fields.POD_TEMPLATE == names(core_v1.PodTemplateSpec) == names(batch_v1.JobTemplateSpec)
    assert names(core_v1.PodSpec) == fields.POD_SPEC
    assert names(core_v1.Container) == fields.CONTAINER
    assert names(core_v1.ContainerPort) == fields.CONTAINER_PORT
    assert names(core_v1.PodStatus) == fields.POD_STATUS
    assert names(core_v1.NamespaceSpec) == fields.NAMESPACE_SPEC
    assert names(core_v1.NamespaceStatus) == fields.NAMESPACE_STATUS
    for kind, model in [("Deployment", apps_v1.DeploymentSpec),
                        ("StatefulSet", apps_v1.StatefulSetSpec),
                        ("DaemonSet", apps_v1.DaemonSetSpec),
                        ("ReplicaSet", apps_v1.ReplicaSetSpec),
                        ("ReplicationController", core_v1.ReplicationControllerSpec),
                        ("Job", batch_v1.JobSpec), ("CronJob", batch_v1.CronJobSpec)]:
        assert fields.WORKLOAD_SPEC[kind] == names(model), kind
    assert names(networking_v1.NetworkPolicySpec) == fields.POLICY_SPEC
    assert names(networking_v1.NetworkPolicyIngressRule) == fields.INGRESS_RULE
    assert names(networking_v1.NetworkPolicyEgressRule) == fields.EGRESS_RULE
    assert names(networking_v1.NetworkPolicyPeer) == fields.PEER
    assert names(networking_v1.IPBlock) == fields.IP_BLOCK
    assert names(networking_v1.NetworkPolicyPort) == fields.POLICY_PORT
    assert names(meta_v1.LabelSelector) == fields.SELECTOR
    assert names(meta_v1.LabelSelectorRequirement) == fields.REQUIREMENT
    # NetworkPolicy's status is gone from the schema; podwall still accepts it (see fields.py)
    assert names(networking_v1.NetworkPolicy) | {"status"} == fields.POLICY
