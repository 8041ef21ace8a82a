"""Which kinds the API server serves at which stable apiVersion, and the error for one it does not.

kubectl maps every object's apiVersion and kind to a resource before it sends anything; a kind the
server does not serve in that version fails the whole apply with `no matches for kind "X" in
version "Y"`. podwall says the same, with a hint, for the apiVersions every cluster serves (the
stable versions of the built-in groups): `kind: Network Policy` or `networkpolicy` there is a typo
that would otherwise be skipped in silence, and the policy with it.

Everything else is not podwall's to judge and is skipped (listed with `--verbose`): groups a
cluster gets from CustomResourceDefinitions (policy.networking.k8s.io's AdminNetworkPolicy and
ClusterNetworkPolicy among them), alpha and beta versions (which come and go between releases and
feature gates), and versions a current server no longer serves (`extensions/v1beta1`).

The table is the built-in resources of Kubernetes 1.37's OpenAPI (as lightkube-models 1.37
lists them; tests/manifests/test_kinds.py compares the two when lightkube-models is installed).
A kind that a later release adds to a stable version is an error here until the table learns it.
"""

from __future__ import annotations

from functools import lru_cache

from podwall.manifests.suggest import nearest
from podwall.manifests.syntax import go_quote as _quote

_SERVED: dict[str, str] = {
    "admissionregistration.k8s.io/v1": "MutatingAdmissionPolicy MutatingAdmissionPolicyBinding "
                                       "MutatingWebhookConfiguration ValidatingAdmissionPolicy "
                                       "ValidatingAdmissionPolicyBinding "
                                       "ValidatingWebhookConfiguration",
    "apiextensions.k8s.io/v1": "CustomResourceDefinition",
    "apiregistration.k8s.io/v1": "APIService",
    "apps/v1": "ControllerRevision DaemonSet Deployment ReplicaSet StatefulSet",
    "authentication.k8s.io/v1": "SelfSubjectReview TokenReview",
    "authorization.k8s.io/v1": "LocalSubjectAccessReview SelfSubjectAccessReview "
                               "SelfSubjectRulesReview SubjectAccessReview",
    "autoscaling/v1": "HorizontalPodAutoscaler",
    "autoscaling/v2": "HorizontalPodAutoscaler",
    "batch/v1": "CronJob Job",
    "certificates.k8s.io/v1": "CertificateSigningRequest ClusterTrustBundle PodCertificateRequest",
    "coordination.k8s.io/v1": "Lease",
    "discovery.k8s.io/v1": "EndpointSlice",
    "events.k8s.io/v1": "Event",
    "flowcontrol.apiserver.k8s.io/v1": "FlowSchema PriorityLevelConfiguration",
    "networking.k8s.io/v1": "IPAddress Ingress IngressClass NetworkPolicy ServiceCIDR",
    "node.k8s.io/v1": "RuntimeClass",
    "policy/v1": "PodDisruptionBudget",
    "rbac.authorization.k8s.io/v1": "ClusterRole ClusterRoleBinding Role RoleBinding",
    "resource.k8s.io/v1": "DeviceClass DeviceTaintRule ResourceClaim ResourceClaimTemplate "
                          "ResourceSlice",
    "scheduling.k8s.io/v1": "PriorityClass",
    "storage.k8s.io/v1": "CSIDriver CSINode CSIStorageCapacity StorageClass VolumeAttachment "
                         "VolumeAttributesClass",
    "storagemigration.k8s.io/v1": "StorageVersionMigration",
    "v1": "Binding ComponentStatus ConfigMap Endpoints Event LimitRange Namespace Node "
          "PersistentVolume PersistentVolumeClaim Pod PodTemplate ReplicationController "
          "ResourceQuota Secret Service ServiceAccount",
}
SERVED: dict[str, frozenset[str]] = {v: frozenset(k.split()) for v, k in _SERVED.items()}

# Where each kind lives, for "Deployment is apps/v1" (the first stable version listed wins).
_HOME: dict[str, str] = {}
for _version, _kinds in SERVED.items():
    for _kind in sorted(_kinds):
        _HOME.setdefault(_kind, _version)


def is_checked(api_version: str) -> bool:
    """Whether podwall knows every kind this apiVersion serves (see the module's docstring)."""
    return api_version in SERVED


@lru_cache(maxsize=1024)
def no_match(kind: str, api_version: str) -> str | None:
    """The error for a kind a checked apiVersion does not serve (with a hint when one is near),
    or None when the kind is served there or the apiVersion is not checked.

    An empty `*List` (no `items`) of a served kind is served too: there is nothing in it."""
    served = SERVED.get(api_version)
    if served is None or kind in served:
        return None
    if kind.endswith("List") and (kind[:-4] in served or not kind[:-4]):
        return None
    message = f"no matches for kind {_quote(kind)} in version {_quote(api_version)}"
    near = _nearest(kind, sorted(served))
    if near is not None:
        return f"{message}: did you mean {near}?"
    if kind in _HOME:
        return f"{message}: did you mean apiVersion: {_HOME[kind]}?"
    near = _nearest(kind, sorted(_HOME))
    if near is not None:
        return f"{message}: did you mean {near} in {_HOME[near]}?"
    return message


def _nearest(kind: str, candidates: list[str]) -> str | None:
    """The kind meant, also when it was written as a resource's plural (`NetworkPolicies`)."""
    near = nearest(kind, candidates)
    if near is None:
        for plural, singular in (("ies", "y"), ("es", ""), ("s", "")):
            if kind.lower().endswith(plural) and len(kind) > len(plural) + 1:
                near = nearest(kind[:-len(plural)] + singular, candidates)
                if near is not None:
                    break
    return near
