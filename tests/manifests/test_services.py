"""Service (v1) objects: what the DNAT needs, validated at the exact field path."""

from __future__ import annotations

import ipaddress

import pytest

from podwall.errors import Severity
from podwall.manifests import LoadResult
from podwall.model import Protocol, Service, ServicePort
from tests.manifests.helpers import errors_of, load_text, of_severity, only

SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n"  # spec: line 6


def test_a_cluster_ip_service_is_read() -> None:
    result = load_text(SVC + "  clusterIP: 10.96.3.4\n  selector: {app: web}\n"
                       "  ports:\n  - {name: http, port: 80, targetPort: http}\n"
                       "  - {name: dns, port: 53, protocol: UDP}\n")
    assert not result.diagnostics
    svc = only_service(result)
    assert svc.key == "shop/web" and str(svc) == "svc/shop/web"
    assert svc.cluster_ip == ipaddress.ip_address("10.96.3.4") and not svc.cluster_ip_assigned
    assert dict(svc.selector or {}) == {"app": "web"}
    assert svc.ports == (ServicePort(80, Protocol.TCP, "http", "http"),
                         ServicePort(53, Protocol.UDP, 53, "dns"))  # absent targetPort = port


def test_a_missing_cluster_ip_is_assigned_from_the_service_cidr_deterministically() -> None:
    text = SVC + "  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n"
    one, two = only_service(load_text(text)), only_service(load_text(text))
    assert one.cluster_ip == two.cluster_ip and one.cluster_ip_assigned
    assert one.cluster_ip in ipaddress.ip_network("10.96.0.0/12")
    assert one.cluster_ip not in {ipaddress.ip_address("10.96.0.1"),
                                  ipaddress.ip_address("10.96.0.10")}


def test_headless_and_selectorless_services() -> None:
    headless = only_service(load_text(SVC + "  clusterIP: None\n  selector: {app: web}\n"))
    assert headless.headless and headless.cluster_ip is None and headless.ports == ()
    manual = only_service(load_text(SVC + "  ports: [{port: 80}]\n  selector: {}\n"))
    assert manual.selector is None and not manual.headless


def test_external_name_is_skipped_with_a_note() -> None:
    result = load_text(SVC + "  type: ExternalName\n  externalName: docs.example.com\n")
    assert not [s for s in result.cluster.services if s.key == "shop/web"]
    note = only(of_severity(result, Severity.INFO))
    assert note.path == "spec.type" and "ExternalName" in note.message and note.line == 7


CASES = {
    "ports missing": (SVC + "  selector: {app: web}\n", "spec.ports", "Required value"),
    "port out of range": (SVC + "  ports: [{port: 70000}]\n", "spec.ports[0].port",
                          "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    "port absent": (SVC + "  ports: [{targetPort: 80}]\n", "spec.ports[0].port",
                    "Required value"),
    "protocol lower case": (SVC + "  ports: [{port: 80, protocol: udp}]\n",
                            "spec.ports[0].protocol", 'Unsupported value: "udp"'),
    "targetPort name invalid": (SVC + "  ports: [{port: 80, targetPort: Web_1}]\n",
                                "spec.ports[0].targetPort", 'Invalid value: "Web_1"'),
    "targetPort a quoted number": (SVC + "  ports: [{port: 80, targetPort: '8080'}]\n",
                                   "spec.ports[0].targetPort",
                                   "must contain at least one letter"),
    "targetPort out of range": (SVC + "  ports: [{port: 80, targetPort: 65536}]\n",
                                "spec.ports[0].targetPort", "Invalid value: 65536"),
    "names required with several ports": (
        SVC + "  ports: [{port: 80}, {port: 81, name: b}]\n", "spec.ports[0].name",
        "Required value"),
    "duplicate port": (SVC + "  ports: [{port: 80, name: a}, {port: 80, name: b}]\n",
                       "spec.ports[1]", "Duplicate value"),
    "clusterIP not an address": (SVC + "  clusterIP: ten\n  ports: [{port: 80}]\n",
                                 "spec.clusterIP", 'Invalid value: "ten": must be a valid IP'),
    "type unknown": (SVC + "  type: Internal\n", "spec.type", 'Unsupported value: "Internal"'),
    "selector value invalid": (SVC + "  selector: {app: 'a b'}\n  ports: [{port: 80}]\n",
                               "spec.selector", 'Invalid value: "a b"'),
    "name not a DNS-1035 label": (SVC.replace("name: web", "name: 1web")
                                  + "  ports: [{port: 80}]\n", "metadata.name",
                                  "a DNS-1035 label must"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_services_are_errors_at_their_field(name: str) -> None:
    text, path, message = CASES[name]
    d = only(errors_of(text))
    assert d.path == path and message in d.message, str(d)
    assert d.obj is not None and d.obj.startswith("Service ")


def test_a_valid_service_has_no_error() -> None:
    assert not errors_of(SVC + "  ports: [{port: 80, targetPort: 8080}]\n")


def test_a_duplicate_service_is_reported_and_the_last_kept() -> None:
    text = SVC + "  ports: [{port: 80}]\n---\n" + SVC + "  ports: [{port: 81}]\n"
    result = load_text(text)
    assert [s.ports[0].port for s in result.cluster.services if s.key == "shop/web"] == [81]
    assert "duplicate object" in only(of_severity(result, Severity.WARNING)).message


def only_service(result: LoadResult) -> Service:
    services = [s for s in result.cluster.services if s.key == "shop/web"]
    assert len(services) == 1
    return services[0]
