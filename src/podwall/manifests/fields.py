"""The fields each object podwall reads may have, and what an unknown one is (kubectl's
`--validate`, the API's `fieldValidation`).

kubectl validates strictly by default: the API server rejects an object with a field its schema
does not have (`strict decoding error: unknown field "spec.ingres"`). A misspelled field is not
harmless: `ingres:` leaves a policy with no ingress rules, so a default-deny where an allow was
meant. podwall does the same by default, and `--field-validation=warn` (a warning, the object
loads without the field) or `ignore` (silence) relax it, as kubectl's `--validate=warn|ignore` do.

Which fields are checked: every level of a NetworkPolicy; of Namespaces, Pods and workloads the
levels podwall reads on its way to labels, ports and addresses (the object, metadata, the
workload's spec, the pod template, the pod spec, each container and its ports, the pod's status).
Subtrees podwall does not read (a container's `env`, a pod's `volumes`, a Deployment's `strategy`,
`managedFields`) are not looked into: podwall holds no schema for them, and a field it does not
know there must never turn a valid object into an error.

The lists are Kubernetes 1.37's OpenAPI (lightkube-models 1.37; tests/manifests/test_fields.py
compares them when it is installed). A NetworkPolicy may also carry `status` (servers 1.24-1.27
had one; snapshots from them still do).
"""

from __future__ import annotations

import enum

from podwall.manifests.suggest import nearest


class FieldValidation(enum.Enum):
    """What an unknown field is: an error (the default, as kubectl's), a warning, or nothing."""

    STRICT = "strict"
    WARN = "warn"
    IGNORE = "ignore"


def _fields(words: str) -> frozenset[str]:
    return frozenset(words.split())


OBJECT = _fields("apiVersion kind metadata spec status")
OBJECT_META = _fields(
    "annotations creationTimestamp deletionGracePeriodSeconds deletionTimestamp finalizers "
    "generateName generation labels managedFields name namespace ownerReferences "
    "resourceVersion selfLink uid "
)
NAMESPACE_SPEC = _fields("finalizers")
NAMESPACE_STATUS = _fields("conditions phase")
POD_TEMPLATE = _fields("metadata spec")  # PodTemplateSpec, and a CronJob's JobTemplateSpec
POD_SPEC = _fields(
    "activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig "
    "dnsPolicy enableServiceLinks ephemeralContainers evictionResponders hostAliases hostIPC "
    "hostNetwork hostPID hostUsers hostname hostnameOverride imagePullSecrets initContainers "
    "nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName "
    "readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName "
    "schedulingGates schedulingGroup securityContext serviceAccount serviceAccountName "
    "setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds "
    "tolerations topologySpreadConstraints volumes "
)
CONTAINER = _fields(
    "args command env envFrom image imagePullPolicy lifecycle livenessProbe name ports "
    "readinessProbe resizePolicy resources restartPolicy restartPolicyRules securityContext "
    "startupProbe stdin stdinOnce terminationMessagePath terminationMessagePolicy tty "
    "volumeDevices volumeMounts workingDir "
)
CONTAINER_PORT = _fields("containerPort hostIP hostPort name protocol")
POD_STATUS = _fields(
    "allocatedResources conditions containerStatuses ephemeralContainerStatuses "
    "extendedResourceClaimStatus hostIP hostIPs initContainerStatuses message "
    "nodeAllocatableResourceClaimStatuses nominatedNodeName observedGeneration phase podIP "
    "podIPs qosClass reason resize resourceClaimStatuses resources startTime volumeHealth "
)
WORKLOAD_SPEC: dict[str, frozenset[str]] = {
    "Deployment": _fields(
        "minReadySeconds paused progressDeadlineSeconds replicas revisionHistoryLimit selector "
        "strategy template "),
    "StatefulSet": _fields(
        "minReadySeconds ordinals persistentVolumeClaimRetentionPolicy podManagementPolicy "
        "replicas revisionHistoryLimit selector serviceName template updateStrategy "
        "volumeClaimTemplates "),
    "DaemonSet": _fields("minReadySeconds revisionHistoryLimit selector template updateStrategy"),
    "ReplicaSet": _fields("minReadySeconds replicas selector template"),
    "ReplicationController": _fields("minReadySeconds replicas selector template"),
    "Job": _fields(
        "activeDeadlineSeconds backoffLimit backoffLimitPerIndex completionMode completions "
        "managedBy manualSelector maxFailedIndexes parallelism podFailurePolicy "
        "podReplacementPolicy scheduling selector successPolicy suspend template "
        "ttlSecondsAfterFinished "),
    "CronJob": _fields(
        "concurrencyPolicy failedJobsHistoryLimit jobTemplate schedule startingDeadlineSeconds "
        "successfulJobsHistoryLimit suspend timeZone "),
}
JOB_SPEC = WORKLOAD_SPEC["Job"]

POLICY = OBJECT  # (NetworkPolicy's own `status` is allowed: see the docstring)
POLICY_SPEC = _fields("podSelector ingress egress policyTypes")
INGRESS_RULE = _fields("from ports")
EGRESS_RULE = _fields("to ports")
PEER = _fields("podSelector namespaceSelector ipBlock")
IP_BLOCK = _fields("cidr except")
POLICY_PORT = _fields("protocol port endPort")
SELECTOR = _fields("matchLabels matchExpressions")
REQUIREMENT = _fields("key operator values")

# Words of a misplaced field: `from` in an egress rule, `to` in an ingress rule.
_OTHER_DIRECTION = {("from", EGRESS_RULE): "to", ("to", INGRESS_RULE): "from"}


def unknown(key: str, allowed: frozenset[str], inner: tuple[str, frozenset[str]] | None = None
            ) -> str:
    """The message for an unknown field `key` where `allowed` are the fields; `inner` names a
    child mapping and its fields, for a field indented one level too shallow."""
    from podwall.manifests.syntax import go_quote

    message = f"unknown field {go_quote(key)}"
    other = _OTHER_DIRECTION.get((key, allowed))
    if other is not None:
        return f'{message}: an {"egress" if other == "to" else "ingress"} rule names its peers ' \
               f'in "{other}"'
    if inner is not None and key in inner[1]:
        return f'{message}: did you mean "{inner[0]}.{key}" (indented one level deeper)?'
    near = nearest(key, sorted(allowed))
    if near is not None:
        return f'{message}: did you mean "{near}"?'
    return message
