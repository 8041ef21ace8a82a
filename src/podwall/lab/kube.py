"""kubectl's verbs on the lab's snapshot: run, expose, apply, delete, label.

Why on the snapshot: the lab's `cluster.json` is the one truth of what the lab runs (see
podwall.lab.lab). Each verb here is a pure function from that snapshot to the next one, checked
with the API server's words (`Error from server (NotFound): pods "x" not found`); the lab then
reconciles the kernel to the result in one transaction, and the caller diffs the two snapshots
to say which connections opened or closed. Nothing here touches the kernel.

New pods get an IP from the lab's pod CIDR (existing pods keep theirs); new Services a ClusterIP
from the service CIDR (see podwall.lab.services); objects from files keep the addresses they
give (`status.podIP`, `spec.clusterIP`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from podwall.errors import InputError
from podwall.lab import services as svcs
from podwall.manifests import syntax
from podwall.model import (
    Cluster,
    ContainerPort,
    Endpoint,
    Labels,
    Namespace,
    NetworkPolicy,
    Protocol,
    Service,
    ServicePort,
)

# What `--image-like IMAGE` gives a pod when no --port is given: the ports that image serves.
IMAGE_PORTS: dict[str, tuple[tuple[int, Protocol], ...]] = {
    "nginx": ((80, Protocol.TCP),), "httpd": ((80, Protocol.TCP),),
    "busybox": (), "alpine": (), "curl": (),
    "redis": ((6379, Protocol.TCP),), "postgres": ((5432, Protocol.TCP),),
    "mysql": ((3306, Protocol.TCP),), "mongo": ((27017, Protocol.TCP),),
    "memcached": ((11211, Protocol.TCP),),
    "coredns": ((53, Protocol.UDP), (53, Protocol.TCP)),
}
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# kubectl's resource names: what `get`, `delete` and `apply` print and accept.
RESOURCES = {"pod": "pods", "service": "services", "networkpolicy": "networkpolicies",
             "namespace": "namespaces"}
ALIASES = {"po": "pod", "pod": "pod", "pods": "pod",
           "svc": "service", "service": "service", "services": "service",
           "netpol": "networkpolicy", "networkpolicy": "networkpolicy",
           "networkpolicies": "networkpolicy",
           "networkpolicy.networking.k8s.io": "networkpolicy",
           "networkpolicies.networking.k8s.io": "networkpolicy",
           "ns": "namespace", "namespace": "namespace", "namespaces": "namespace"}
_KIND_NAMES = {"Pod": "pod", "Service": "service", "NetworkPolicy":
               "networkpolicy.networking.k8s.io", "Namespace": "namespace",
               "Deployment": "deployment.apps", "StatefulSet": "statefulset.apps",
               "DaemonSet": "daemonset.apps", "ReplicaSet": "replicaset.apps",
               "ReplicationController": "replicationcontroller", "Job": "job.batch",
               "CronJob": "cronjob.batch"}


@dataclass(frozen=True, slots=True)
class Change:
    """One object a verb touched, as kubectl prints it: `pod/nginx created`."""

    kind: str
    namespace: str | None
    name: str
    action: str  # created, configured, unchanged, deleted, labeled, exposed

    @property
    def line(self) -> str:
        resource = _KIND_NAMES.get(self.kind, self.kind.lower())
        if self.action == "deleted":
            return f'{resource} "{self.name}" deleted'
        return f"{resource}/{self.name} {self.action}"

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name,
                "action": self.action}


def resource(word: str) -> str:
    """`netpol`, `po`, `svc`, `ns` and kubectl's other spellings -> the singular resource."""
    found = ALIASES.get(word.lower())
    if found is None:
        raise InputError(f'error: the server doesn\'t have a resource type "{word}" (the lab '
                         f"knows {', '.join(sorted(RESOURCES))})")
    return found


def not_found(kind: str, name: str) -> InputError:
    return InputError(f'Error from server (NotFound): {RESOURCES[kind]} "{name}" not found')


def _invalid(kind: str, name: str, field: str, value: str, problems: Sequence[str]) -> InputError:
    return InputError(f'The {kind} "{name}" is invalid: {field}: Invalid value: '
                      f"{syntax.go_quote(value)}: {'; '.join(problems)}")


def check_name(kind: str, name: str) -> None:
    problems = (syntax.dns1123_label(name) if kind in ("Namespace", "Service")
                else syntax.dns1123_subdomain(name))
    if problems:
        raise _invalid(kind, name, "metadata.name", name, problems)


def parse_labels(text: str, what: str = "--labels") -> dict[str, str]:
    """`k=v,k2=v2` (kubectl run's --labels), each key and value checked as the API server does."""
    labels: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"{what}: {item!r} is not key=value")
        check_label(key, value)
        labels[key] = value
    return labels


def check_label(key: str, value: str) -> None:
    problems = syntax.qualified_name(key)
    if problems:
        raise InputError(f"metadata.labels: Invalid value: {syntax.go_quote(key)}: "
                         f"{'; '.join(problems)}")
    problems = syntax.label_value(value)
    if problems:
        raise InputError(f"metadata.labels: Invalid value: {syntax.go_quote(value)}: "
                         f"{'; '.join(problems)}")


def parse_port(text: str) -> tuple[int, Protocol]:
    """`80`, `80/TCP`, `53/udp`."""
    number, _, proto = text.partition("/")
    try:
        port = int(number)
        protocol = Protocol(proto.upper() or "TCP")
    except ValueError:
        raise InputError(f"--port {text!r}: use PORT or PORT/PROTOCOL (80, 53/UDP)") from None
    if not 1 <= port <= 65535:
        raise InputError(f"--port {text!r}: must be between 1 and 65535, inclusive")
    return port, protocol


def find_pod(cluster: Cluster, namespace: str, name: str) -> Endpoint:
    """A pod of the lab by name: a Pod, or a workload's endpoint (one namespace in the lab
    stands for its pods, so `lab exec web -n shop` works on a Deployment web too)."""
    ep = cluster.endpoint(f"{namespace}/{name}")
    if ep is None:
        raise not_found("pod", name)
    return ep


# -- the verbs ---------------------------------------------------------------------------------


def run_pod(cluster: Cluster, namespace: str, name: str, labels: Mapping[str, str] | None,
            ports: Sequence[tuple[int, Protocol]], image_like: str | None = None) -> Cluster:
    """`kubectl run NAME --labels ... --port ...`: one Pod (labels default to `run=NAME`)."""
    check_name("Pod", name)
    if cluster.endpoint(f"{namespace}/{name}") is not None:
        raise InputError(f'Error from server (AlreadyExists): pods "{name}" already exists')
    if image_like is not None and image_like not in IMAGE_PORTS:
        raise InputError(f"--image-like {image_like!r}: the lab knows "
                         f"{', '.join(sorted(IMAGE_PORTS))}")
    chosen = list(dict.fromkeys(ports)) or list(IMAGE_PORTS.get(image_like or "", ()))
    pod = Endpoint(namespace, name, Labels(dict(labels) if labels else {"run": name}),
                   tuple(ContainerPort(port, protocol) for port, protocol in chosen))
    return svcs.rebuild(cluster, cluster.namespaces.values(), [*cluster.endpoints, pod],
                        cluster.all_policies, cluster.services)


def expose(cluster: Cluster, namespace: str, pod_name: str, port: int | None,
           service_name: str | None, target_port: int | str | None,
           protocol: Protocol | None) -> tuple[Cluster, Service]:
    """`kubectl expose pod POD --port P`: a ClusterIP Service selecting the pod's labels."""
    pod = find_pod(cluster, namespace, pod_name)
    name = service_name or pod_name
    check_name("Service", name)
    if svcs.service(cluster, namespace, name) is not None:
        raise InputError(f'Error from server (AlreadyExists): services "{name}" already exists')
    if not pod.labels:
        raise InputError(f'error: couldn\'t retrieve selectors via --selector flag or '
                         f'introspection: the pod "{pod_name}" has no labels')
    if port is None:
        if not pod.ports:
            raise InputError(f"error: couldn't find port via --port flag or introspection "
                             f'(pod "{pod_name}" declares no port)')
        port, protocol = pod.ports[0].port, protocol or pod.ports[0].protocol
    chosen = protocol or Protocol.TCP
    used = [s.cluster_ip for s in cluster.services]
    service = Service(namespace, name, pod.labels,
                      (ServicePort(port, chosen, target_port if target_port is not None else port),),
                      svcs.allocate_ip(f"{namespace}/{name}", used), cluster_ip_assigned=True)
    new = svcs.rebuild(cluster, cluster.namespaces.values(), cluster.endpoints,
                       cluster.all_policies, [*cluster.services, service])
    return new, service


def apply_objects(cluster: Cluster, loaded: Cluster) -> tuple[Cluster, list[Change]]:
    """`kubectl apply -f`: every object of `loaded` created or replaced by namespace/name."""
    namespaces = dict(cluster.namespaces)
    endpoints = {ep.key: ep for ep in cluster.endpoints}
    policies = {p.key: p for p in cluster.all_policies}
    services = {s.key: s for s in cluster.services}
    changes: list[Change] = []

    def record(kind: str, ns: str | None, name: str, old: object, new: object) -> None:
        action = "created" if old is None else "unchanged" if old == new else "configured"
        changes.append(Change(kind, ns, name, action))

    for ns in loaded.namespaces.values():
        if not ns.implied:
            record("Namespace", None, ns.name, namespaces.get(ns.name), ns)
            namespaces[ns.name] = replace(ns, source=None)
    for ep in loaded.endpoints:
        old_ep = endpoints.get(ep.key)
        if ep.ip_assigned:  # no status.podIP: keep the pod's lab address, or get one here
            ep = replace(ep, ip=old_ep.ip if old_ep else None, ip_assigned=True)
        ep = replace(ep, source=None)
        record(ep.kind, ep.namespace, ep.name, old_ep, ep)
        endpoints[ep.key] = ep
    for policy in loaded.all_policies:
        policy = replace(policy, source=None)
        record("NetworkPolicy", policy.namespace, policy.name, policies.get(policy.key), policy)
        policies[policy.key] = policy
    for svc in loaded.services:
        if svc.implied:
            continue
        old_svc = services.get(svc.key)
        if svc.cluster_ip_assigned:  # no spec.clusterIP: keep its lab address, or get one
            used = [s.cluster_ip for k, s in services.items() if k != svc.key]
            ip = old_svc.cluster_ip if old_svc else svcs.allocate_ip(svc.key, used)
            svc = replace(svc, cluster_ip=ip)
        svc = replace(svc, source=None)
        record("Service", svc.namespace, svc.name, old_svc, svc)
        services[svc.key] = svc
    cluster_policies = {p.key: p for p in cluster.cluster_policies}
    for cnp in loaded.cluster_policies:
        cnp = replace(cnp, source=None)
        record(cnp.kind, None, cnp.name, cluster_policies.get(cnp.key), cnp)
        cluster_policies[cnp.key] = cnp
    new = svcs.rebuild(cluster, namespaces.values(), endpoints.values(), policies.values(),
                       services.values(), cluster_policies.values())
    return new, changes


def delete(cluster: Cluster, kind: str, namespace: str, name: str) -> tuple[Cluster, Change]:
    """`kubectl delete KIND NAME`; a namespace takes everything in it along."""
    namespaces = dict(cluster.namespaces)
    endpoints = list(cluster.endpoints)
    policies = list(cluster.all_policies)
    services = list(cluster.services)
    if kind == "pod":
        pod = find_pod(cluster, namespace, name)
        endpoints = [ep for ep in endpoints if ep.key != f"{namespace}/{name}"]
        change = Change(pod.kind, namespace, name, "deleted")
    elif kind == "networkpolicy":
        if not any(p.key == f"{namespace}/{name}" for p in policies):
            raise not_found(kind, name)
        policies = [p for p in policies if p.key != f"{namespace}/{name}"]
        change = Change("NetworkPolicy", namespace, name, "deleted")
    elif kind == "service":
        if svcs.service(cluster, namespace, name) is None:
            raise not_found(kind, name)
        services = [s for s in services if s.key != f"{namespace}/{name}"]
        change = Change("Service", namespace, name, "deleted")
    else:
        if name not in namespaces:
            raise not_found(kind, name)
        if name in PROTECTED_NAMESPACES:
            raise InputError(f'Error from server (Forbidden): namespaces "{name}" is forbidden: '
                             "this namespace may not be deleted")
        namespaces.pop(name)
        endpoints = [ep for ep in endpoints if ep.namespace != name]
        policies = [p for p in policies if p.namespace != name]
        services = [s for s in services if s.namespace != name]
        change = Change("Namespace", None, name, "deleted")
    return svcs.rebuild(cluster, namespaces.values(), endpoints, policies, services), change


def label(cluster: Cluster, kind: str, namespace: str, name: str, edits: Sequence[str],
          overwrite: bool = False) -> tuple[Cluster, Change]:
    """`kubectl label pod|namespace NAME k=v k2-`: set or remove labels."""
    if kind == "pod":
        target: Endpoint | Namespace = find_pod(cluster, namespace, name)
    elif kind == "namespace":
        if name not in cluster.namespaces:
            raise not_found(kind, name)
        target = cluster.namespaces[name]
    else:
        raise InputError(f"the lab labels pods and namespaces, not {RESOURCES.get(kind, kind)}")
    labels = dict(target.labels)
    if not edits:
        raise InputError("error: at least one label update is required")
    for edit in edits:
        if edit.endswith("-") and "=" not in edit:
            key = edit[:-1]
            check_label(key, "")
            labels.pop(key, None)
            continue
        key, sep, value = edit.partition("=")
        if not sep:
            raise InputError(f"error: invalid label spec: {edit} (use key=value, or key- to "
                             "remove)")
        check_label(key, value)
        if key in labels and labels[key] != value and not overwrite:
            raise InputError(f"error: '{key}' already has a value ({labels[key]}), and "
                             "--overwrite is false")
        labels[key] = value
    if isinstance(target, Namespace):
        ns = Namespace.make(name, labels)  # keeps kubernetes.io/metadata.name
        namespaces = {**cluster.namespaces, name: ns}
        change = Change("Namespace", None, name,
                        "labeled" if ns.labels != target.labels else "not labeled")
        return svcs.rebuild(cluster, namespaces.values(), cluster.endpoints, cluster.all_policies,
                            cluster.services), change
    pod = replace(target, labels=Labels(labels))
    endpoints = [pod if ep.key == pod.key else ep for ep in cluster.endpoints]
    change = Change(pod.kind, namespace, name, "labeled" if pod.labels != target.labels
                    else "not labeled")
    return svcs.rebuild(cluster, cluster.namespaces.values(), endpoints, cluster.all_policies,
                        cluster.services), change


def policy(cluster: Cluster, namespace: str, name: str) -> NetworkPolicy:
    found = next((p for p in cluster.all_policies if p.key == f"{namespace}/{name}"), None)
    if found is None:
        raise not_found("networkpolicy", name)
    return found


def object_keys(cluster: Cluster) -> dict[str, object]:
    """Every object of a snapshot by `Kind/ns/name` (`Namespace/name`)."""
    keys: dict[str, object] = {f"Namespace/{n.name}": n for n in cluster.namespaces.values()}
    keys.update((f"{ep.kind}/{ep.key}", ep) for ep in cluster.endpoints)
    keys.update((f"NetworkPolicy/{p.key}", p) for p in cluster.all_policies)
    keys.update((f"Service/{s.key}", s) for s in cluster.services)
    return keys


def stamp(state: dict[str, Any], old: Cluster | None, new: Cluster) -> None:
    """Record when objects appeared (kubectl's AGE); forget those that are gone."""
    import time

    stamps = state.get("created")
    stamps = dict(stamps) if isinstance(stamps, dict) else {}
    now = time.time()
    before = object_keys(old) if old is not None else {}
    after = object_keys(new)
    state["created"] = {key: (stamps.get(key, now) if key in before else now) for key in after}
