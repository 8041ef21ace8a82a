"""The lab's DNS: which names resolve, and the wire format (no root needed)."""

from __future__ import annotations

import struct

from podwall.lab import dns
from podwall.lab import services as svcs
from podwall.lab.kube import expose, run_pod
from podwall.lab.server import Conn, Records, Server, page
from podwall.model import Cluster, Protocol, build_cluster


def lab_cluster() -> Cluster:
    cluster = svcs.with_cluster_dns(build_cluster([], [], [], "10.244.0.0/16"))
    cluster = run_pod(cluster, "default", "nginx", {"app": "nginx"}, [(80, Protocol.TCP)])
    cluster, _ = expose(cluster, "default", "nginx", 80, None, None, None)
    return cluster


def test_services_and_pods_have_names() -> None:
    cluster = lab_cluster()
    table = dns.records(cluster)
    service = svcs.service(cluster, "default", "nginx")
    pod = cluster.endpoint("default/nginx")
    assert service is not None and pod is not None
    assert table["nginx.default.svc.cluster.local"] == [str(service.cluster_ip)]
    assert table["kube-dns.kube-system.svc.cluster.local"] == ["10.96.0.10"]
    assert table["nginx.default.pod.cluster.local"] == [str(pod.ip)]
    assert table[f"{str(pod.ip).replace('.', '-')}.default.pod.cluster.local"] == [str(pod.ip)]


def test_resolv_conf_searches_the_namespace_first() -> None:
    text = dns.resolv_conf("shop", "10.96.0.10")
    assert text.splitlines() == [
        "search shop.svc.cluster.local svc.cluster.local cluster.local shop.pod.cluster.local",
        "nameserver 10.96.0.10", "options ndots:5"]


def test_answers_a_records_nxdomain_and_nodata() -> None:
    table = {"nginx.default.svc.cluster.local": ["10.96.1.2"]}
    rcode, ips = dns.parse_answer(dns.answer(dns.query("NGINX.default.svc.cluster.local"), table))
    assert (rcode, ips) == (dns.NOERROR, ["10.96.1.2"])
    # the search list's misses are NXDOMAIN at once, also outside the zone (no upstream)
    assert dns.parse_answer(dns.answer(dns.query("nginx.svc.cluster.local"), table))[0] \
        == dns.NXDOMAIN
    assert dns.parse_answer(dns.answer(dns.query("example.com"), table))[0] == dns.NXDOMAIN
    # AAAA of a known name: no error, no address (resolvers then use the A answer)
    assert dns.parse_answer(dns.answer(dns.query("nginx.default.svc.cluster.local",
                                                 dns.TYPE_AAAA), table)) == (dns.NOERROR, [])
    # an empty non-terminal exists
    assert dns.parse_answer(dns.answer(dns.query("default.svc.cluster.local"), table))[0] \
        == dns.NOERROR


def test_reply_keeps_the_id_and_garbage_is_formerr_or_refused_quietly() -> None:
    reply = dns.answer(dns.query("x.cluster.local", ident=0x1234), {})
    assert struct.unpack("!H", reply[:2])[0] == 0x1234 and reply[2] & 0x80  # QR set
    truncated = dns.query("a.cluster.local")[:-3]
    assert dns.parse_answer(dns.answer(truncated, {}))[0] == dns.FORMERR
    try:
        dns.answer(b"pw-probe", {})
    except dns.BadQuery:
        pass
    else:
        raise AssertionError("an 8-byte datagram is not a query")


def test_server_answers_http_with_the_pod_and_echoes_the_rest() -> None:
    assert b"200 OK" in page("default/nginx", b"GET / HTTP/1.1\r\n\r\n")
    assert b"pod default/nginx answered" in page("default/nginx", b"GET / HTTP/1.1\r\n\r\n")
    assert b"<html>" not in page("default/nginx", b"HEAD / HTTP/1.1\r\n\r\n")
    server = Server(None, "ns/pod", Records(None))  # type: ignore[arg-type]
    http = Conn("http", data=b"GET / HTTP/1.1\r\nHost: x\r\n")
    server.respond(http)
    assert http.out == b"" and not http.closing  # the request is not complete yet
    http.data += b"\r\n"
    server.respond(http)
    assert b"X-Pod: ns/pod" in http.out and http.closing
    echo = Conn("http", data=b"hello\n")
    server.respond(echo)
    assert echo.out == b"hello\n" and not echo.closing
    server.records.table = {"a.b.svc.cluster.local": ["10.96.0.5"]}
    query = dns.query("a.b.svc.cluster.local")
    over_tcp = Conn("dns", data=struct.pack("!H", len(query)) + query)
    server.respond(over_tcp)
    assert dns.parse_answer(over_tcp.out[2:]) == (dns.NOERROR, ["10.96.0.5"])
