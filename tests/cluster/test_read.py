"""Reading a live cluster: paging, kinds, errors, TLS and auth, against the fake API server."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podwall.cluster import KINDS, ClusterError, load_live, read_cluster, resolve, to_cluster, to_list
from podwall.cluster.read import RESTARTS
from podwall.engine import Engine
from podwall.manifests import load_cluster
from podwall.model import PortQuery
from tests.cluster.conftest import TOKEN, as_list_file
from tests.cluster.fake_apiserver import Certificates, FakeApiServer, kubeconfig


def _tls_config(fake: FakeApiServer, certs: Certificates, **user: Any) -> dict[str, Any]:
    return kubeconfig(fake.url, user=user or {"token": TOKEN},
                      cluster={"certificate-authority": certs.ca_cert})


def test_recorded_cluster_reads_as_its_file_does(
        recorded: dict[str, Any], certs: Certificates, write_kubeconfig: Callable[..., Path],
        tmp_path: Path) -> None:
    with FakeApiServer(recorded, token=TOKEN, tls=certs) as fake:
        path = write_kubeconfig(_tls_config(fake, certs))
        read = read_cluster(resolve(str(path)))
    live = to_cluster(read)
    from_file = load_cluster([str(as_list_file(tmp_path / "c.json", to_list(read)["items"]))])
    assert live.cluster == from_file.cluster
    # (a file's paths also name the item of its List: items[14].) A kind cluster has no
    # network-policy-api CRDs: the live read notes that, a file has nothing to say about it.
    unserved = [d for d in live.diagnostics if "does not serve" in d.message]
    assert [d.message.split(" (")[0] for d in unserved] == [
        f"the server does not serve {k}" for k in
        ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")]
    assert [(d.message, d.obj, d.path) for d in live.diagnostics if d not in unserved] == \
           [(d.message, d.obj, re.sub(r"^items\[\d+\]\.?", "", d.path or "") or None)
            for d in from_file.diagnostics]
    assert {ep.source.file for ep in live.cluster.endpoints if ep.source} == {"cluster:kind-test"}
    # The shape of a kind cluster: CoreDNS in kube-system, a Deployment with its ReplicaSet and
    # pods, a StatefulSet's pod; their real pod IPs. Each app once: the running pods are the
    # endpoints, the controllers above them resolve to them.
    keys = {ep.key for ep in live.cluster.endpoints}
    assert {"kube-system/coredns-6f6b679f8f-7xq2m", "shop/web-7d9f8b6c5d-x7k2p",
            "shop/db-0"} <= keys
    assert not {"kube-system/coredns", "shop/web", "shop/web-7d9f8b6c5d", "shop/db"} & keys
    assert [ep.key for ep in live.cluster.members("shop/web")] == [
        "shop/web-7d9f8b6c5d-q9m4z", "shop/web-7d9f8b6c5d-x7k2p"]
    assert str(live.cluster.endpoint("shop/db-0").ip) == "10.244.0.9"  # type: ignore[union-attr]
    engine = Engine(live.cluster)
    assert engine.check("shop/web-7d9f8b6c5d-x7k2p", "shop/db-0", PortQuery.parse("TCP/5432")).allowed
    assert engine.check("shop/web-7d9f8b6c5d-x7k2p", "kube-system/coredns-6f6b679f8f-7xq2m",
                        PortQuery.parse("UDP/53")).allowed
    to_web = engine.check_group("shop/db-0", "shop/web", PortQuery.parse("TCP/8080"))
    assert len(to_web.verdicts) == 2 and not to_web.some_allowed
    dns = engine.check_group("shop/web", "svc/kube-system/kube-dns", PortQuery.parse("UDP/53"))
    assert len(dns.verdicts) == 4 and dns.allowed  # 2 web pods x 2 CoreDNS pods


def test_list_items_are_stamped_with_their_kind(recorded: dict[str, Any],
                                                write_kubeconfig: Callable[..., Path]) -> None:
    assert all("kind" not in item for listing in recorded.values() for item in listing["items"])
    with FakeApiServer(recorded) as fake:
        read = read_cluster(resolve(str(write_kubeconfig(kubeconfig(fake.url)))))
    kinds = {(o["kind"], o["apiVersion"]) for o in read.objects}
    assert ("Pod", "v1") in kinds and ("ReplicaSet", "apps/v1") in kinds
    assert ("NetworkPolicy", "networking.k8s.io/v1") in kinds
    assert all("kind" in o and "apiVersion" in o for o in read.objects)


@pytest.mark.parametrize("page_cap", [None, 1])
def test_lists_are_read_page_by_page(recorded: dict[str, Any], page_cap: int | None,
                                     write_kubeconfig: Callable[..., Path]) -> None:
    """`continue` is followed to the end, also when a page holds fewer items than `limit`."""
    with FakeApiServer(recorded, page_cap=page_cap) as fake:
        target = resolve(str(write_kubeconfig(kubeconfig(fake.url))))
        whole = read_cluster(target)
        paged = read_cluster(target, page_size=2)
        pods = [r for r in fake.requests if r.path == "/api/v1/pods"]
    assert paged.objects == whole.objects
    assert len([o for o in paged.objects if o["kind"] == "Pod"]) == 8
    default = [r for r in pods if r.query["limit"] == "500"]  # the default page size
    paged_pods = [r for r in pods if r.query["limit"] == "2"]
    assert len(default) + len(paged_pods) == len(pods)
    assert len(default) == (1 if page_cap is None else 8)
    assert len(paged_pods) == (4 if page_cap is None else 8)
    assert "continue" not in paged_pods[0].query and all("continue" in r.query
                                                          for r in paged_pods[1:])


@pytest.mark.parametrize("expire", [1, 9])
def test_an_expired_continue_token_restarts_the_list(
        recorded: dict[str, Any], expire: int, write_kubeconfig: Callable[..., Path]) -> None:
    kinds = (KINDS[0], KINDS[1])  # namespaces, then pods
    with FakeApiServer(recorded, expire=expire) as fake:
        target = resolve(str(write_kubeconfig(kubeconfig(fake.url))))
        if expire > RESTARTS:  # every restart expires again: an error, not a partial list
            with pytest.raises(ClusterError, match="GET /api/v1/namespaces: 410 Expired"):
                read_cluster(target, kinds=kinds, page_size=3)
            return
        read = read_cluster(target, kinds=kinds, page_size=3)
    assert [o["metadata"]["name"] for o in read.objects] == \
        [o["metadata"]["name"] for key in ("/api/v1/namespaces", "/api/v1/pods")
         for o in recorded[key]["items"]]


def test_progress_is_reported_per_page(recorded: dict[str, Any],
                                       write_kubeconfig: Callable[..., Path]) -> None:
    seen: list[Any] = []
    with FakeApiServer(recorded) as fake:
        read_cluster(resolve(str(write_kubeconfig(kubeconfig(fake.url)))), progress=seen.append,
                     page_size=3)
    assert seen[-1].kinds_done == seen[-1].kinds == len(KINDS) == 14  # unserved kinds are done
    assert seen[-1].objects == sum(len(v["items"]) for v in recorded.values())
    assert [p.objects for p in seen] == sorted(p.objects for p in seen)


def test_a_wrong_token_is_a_clear_401(recorded: dict[str, Any], certs: Certificates,
                                      write_kubeconfig: Callable[..., Path]) -> None:
    with FakeApiServer(recorded, token="other", tls=certs) as fake, \
            pytest.raises(ClusterError) as caught:
        read_cluster(resolve(str(write_kubeconfig(_tls_config(fake, certs)))))
        assert len(fake.requests) == 1  # the first call alone: one error, not eleven
    message = str(caught.value)
    assert "401" in message and "user 'kind-test'" in message and TOKEN not in message


def test_forbidden_kinds_are_named_with_the_rbac_needed(
        recorded: dict[str, Any], write_kubeconfig: Callable[..., Path]) -> None:
    forbidden = {"/api/v1/pods", "/apis/networking.k8s.io/v1/networkpolicies"}
    with FakeApiServer(recorded, forbidden=forbidden) as fake, \
            pytest.raises(ClusterError) as caught:
        read_cluster(resolve(str(write_kubeconfig(kubeconfig(fake.url)))))
    message = str(caught.value)
    assert "may not list pods, networkpolicies.networking.k8s.io in all namespaces" in message
    assert 'cannot list resource "pods" in API group "" at the cluster scope' in message
    assert "--verb=list --resource=namespaces,pods,services," in message
    assert "403 Forbidden" in message


def test_a_kind_the_server_does_not_serve(recorded: dict[str, Any],
                                          write_kubeconfig: Callable[..., Path]) -> None:
    optional = {k: v for k, v in recorded.items() if k != "/apis/batch/v1/cronjobs"}
    with FakeApiServer(optional) as fake:
        read = read_cluster(resolve(str(write_kubeconfig(kubeconfig(fake.url)))))
    assert [k.kind for k in read.unserved] == [
        "CronJob", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]
    notes = [d.message for d in to_cluster(read).diagnostics]
    assert "the server does not serve CronJob (batch/v1): there are none to read" in notes

    required = {k: v for k, v in recorded.items()
                if k != "/apis/networking.k8s.io/v1/networkpolicies"}
    with FakeApiServer(required) as fake, pytest.raises(ClusterError) as caught:
        read_cluster(resolve(str(write_kubeconfig(kubeconfig(fake.url)))))
    assert "does not serve NetworkPolicy (networking.k8s.io/v1" in str(caught.value)
    assert "404 NotFound" in str(caught.value)


def test_an_untrusted_server_certificate_is_a_tls_failure(
        recorded: dict[str, Any], certs: Certificates,
        write_kubeconfig: Callable[..., Path]) -> None:
    with FakeApiServer(recorded, token=TOKEN, tls=certs) as fake, \
            pytest.raises(ClusterError) as caught:
        config = kubeconfig(fake.url, user={"token": TOKEN},
                            cluster={"certificate-authority": certs.other_ca_cert})
        read_cluster(resolve(str(write_kubeconfig(config))))
    message = str(caught.value)
    assert "TLS failure: the server's certificate is not trusted" in message
    assert "certificate-authority" in message and TOKEN not in message


def test_an_unreachable_server(write_kubeconfig: Callable[..., Path]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(ClusterError) as caught:
        read_cluster(resolve(str(write_kubeconfig(kubeconfig(f"https://127.0.0.1:{port}")))))
    assert f"cluster kind-test (https://127.0.0.1:{port}): cannot reach the API server" in \
        str(caught.value)


def test_client_certificate_with_paths_relative_to_the_kubeconfig(
        recorded: dict[str, Any], certs: Certificates, tmp_path: Path,
        write_kubeconfig: Callable[..., Path]) -> None:
    pki = Path(certs.ca_cert).parent
    with FakeApiServer(recorded, tls=certs, client_cert_required=True) as fake:
        config = kubeconfig(fake.url, user={
            "client-certificate": str(Path("..") / pki.name / "client.crt"),
            "client-key": str(Path("..") / pki.name / "client.key")},
            cluster={"certificate-authority": str(Path("..") / pki.name / "ca.crt")})
        nested = pki.parent / "kube"
        nested.mkdir(exist_ok=True)
        path = nested / "config"
        path.write_text(write_kubeconfig(config).read_text())
        read = read_cluster(resolve(str(path)))
    assert len(read.objects) == sum(len(v["items"]) for v in recorded.values())


@pytest.mark.parametrize("version", ["client.authentication.k8s.io/v1beta1",
                                     "client.authentication.k8s.io/v1"])
def test_exec_credential_plugin(recorded: dict[str, Any], certs: Certificates, tmp_path: Path,
                                version: str, write_kubeconfig: Callable[..., Path]) -> None:
    plugin = tmp_path / "get-token"
    runs = tmp_path / "runs"
    plugin.write_text(
        "#!/bin/sh\n"
        f'echo "$KUBERNETES_EXEC_INFO" >> {runs}\n'
        f"echo '{{\"apiVersion\":\"{version}\",\"kind\":\"ExecCredential\","
        f'"status":{{"token":"{TOKEN}"}}}}\'\n')
    plugin.chmod(0o755)
    with FakeApiServer(recorded, token=TOKEN, tls=certs) as fake:
        config = _tls_config(fake, certs, exec={
            "apiVersion": version, "command": "./get-token", "interactiveMode": "Never"})
        read = read_cluster(resolve(str(write_kubeconfig(config))))
    assert len(read.objects) > 20
    (info,) = runs.read_text().splitlines()  # once: the first call runs it, the others reuse it
    assert json.loads(info) == {"apiVersion": version, "kind": "ExecCredential",
                                "spec": {"interactive": False}}


def test_an_exec_plugin_without_a_token(tmp_path: Path,
                                        write_kubeconfig: Callable[..., Path]) -> None:
    plugin = tmp_path / "get-cert"
    plugin.write_text("#!/bin/sh\necho '{\"status\": {\"clientCertificateData\": \"x\"}}'\n")
    plugin.chmod(0o755)
    with FakeApiServer({}) as fake:
        config = kubeconfig(fake.url, user={"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}})
        with pytest.raises(ClusterError, match="the exec plugin did not answer with a token"):
            read_cluster(resolve(str(write_kubeconfig(config))))


def test_a_missing_exec_plugin(write_kubeconfig: Callable[..., Path]) -> None:
    config = kubeconfig("https://127.0.0.1:1", user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "pw-no-such-plugin"}})
    with pytest.raises(ClusterError, match="cannot get credentials: the exec plugin "
                                           "pw-no-such-plugin is not installed"):
        read_cluster(resolve(str(write_kubeconfig(config))))


def test_in_cluster_service_account(recorded: dict[str, Any], certs: Certificates,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = tmp_path / "sa"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "ca.crt").write_text(Path(certs.ca_cert).read_text())
    (account / "namespace").write_text("podwall")
    monkeypatch.setattr("podwall.cluster.config.SERVICE_ACCOUNT_DIR", str(account))
    with FakeApiServer(recorded, token=TOKEN, tls=certs) as fake:
        host, port = fake.url.removeprefix("https://").split(":")
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
        result = load_live()
    assert {ep.source.file for ep in result.cluster.endpoints if ep.source} == \
        {"cluster:in-cluster"}
    assert len(result.cluster.policies) == 5


@pytest.mark.parametrize(("cluster", "user", "expected"), [
    ({"certificate-authority-data": "!!not-base64"}, {}, "is not valid base64"),
    ({"certificate-authority": "/nonexistent/ca.crt"}, {},
     "cannot load its certificates: no such file: /nonexistent/ca.crt"),
    ({}, {"auth-provider": {"name": "gcp", "config": {"access-token": TOKEN}}},
     "uses an auth-provider"),
])
def test_unusable_kubeconfigs_say_why(cluster: dict[str, Any], user: dict[str, Any],
                                      expected: str,
                                      write_kubeconfig: Callable[..., Path]) -> None:
    config = kubeconfig("https://127.0.0.1:1", user={"token": TOKEN, **user}, cluster=cluster)
    with pytest.raises(ClusterError) as caught:
        read_cluster(resolve(str(write_kubeconfig(config))))
    assert expected in str(caught.value) and TOKEN not in str(caught.value)


def test_a_broken_kubeconfig_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(f"users:\n- name: u\n  user: {{token: {TOKEN}\n")
    with pytest.raises(ClusterError) as caught:
        resolve(str(path))
    assert str(caught.value) == f"{path}: not a valid kubeconfig (YAML syntax error)"


def test_a_server_without_scheme_is_https_as_for_kubectl(
        write_kubeconfig: Callable[..., Path]) -> None:
    assert resolve(str(write_kubeconfig(kubeconfig("127.0.0.1:6443")))).server == \
        "https://127.0.0.1:6443"


def test_kubeconfig_list_merges_first_wins(write_kubeconfig: Callable[..., Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    first = kubeconfig("https://first:6443", context="a")
    second = kubeconfig("https://second:6443", context="a")
    second["contexts"].append({"name": "b", "context": {"cluster": "a"}})
    second["current-context"] = "b"
    monkeypatch.setenv("KUBECONFIG", f"{write_kubeconfig(first, 'one')}:/nonexistent:"
                                     f"{write_kubeconfig(second, 'two')}")
    assert (resolve().context, resolve().server) == ("a", "https://first:6443")
    assert (resolve(context="b").context, resolve(context="b").server) == \
        ("b", "https://first:6443")
    with pytest.raises(ClusterError, match=r"context 'c' not found \(contexts: a, b\)"):
        resolve(context="c")
