"""Typed, immutable objects of the cluster: what the manifests say, after validation."""

from podwall.model.cluster import DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, Cluster, build_cluster
from podwall.model.labels import Labels, LabelSelector, Operator, Requirement
from podwall.model.policy import (
    ENFORCEMENT_ANNOTATION,
    Direction,
    Enforcement,
    IPAddress,
    IPBlock,
    IPNetwork,
    NetworkPolicy,
    Peer,
    Rule,
    default_policy_types,
)
from podwall.model.ports import (
    ContainerPort,
    NamedPortQuery,
    PolicyPort,
    Port,
    PortQuery,
    Protocol,
    parse_port_or_name,
    port_key,
)
from podwall.model.services import Service, ServicePort
from podwall.model.source import Source
from podwall.model.workloads import (
    NAMESPACE_NAME_LABEL,
    WORKLOAD_KINDS,
    Endpoint,
    Namespace,
)

__all__ = [
    "DEFAULT_POD_CIDR",
    "DEFAULT_SERVICE_CIDR",
    "ENFORCEMENT_ANNOTATION",
    "NAMESPACE_NAME_LABEL",
    "WORKLOAD_KINDS",
    "Cluster",
    "ContainerPort",
    "Direction",
    "Endpoint",
    "Enforcement",
    "IPAddress",
    "IPBlock",
    "IPNetwork",
    "LabelSelector",
    "Labels",
    "NamedPortQuery",
    "Namespace",
    "NetworkPolicy",
    "Operator",
    "Peer",
    "PolicyPort",
    "Port",
    "PortQuery",
    "Protocol",
    "Requirement",
    "Rule",
    "Service",
    "ServicePort",
    "Source",
    "build_cluster",
    "default_policy_types",
    "parse_port_or_name",
    "port_key",
]
