"""The NetworkPolicy tutorial, end to end in the lab, with real wget inside the pods (root only).

Pods by `lab run`, a Service by `lab expose`, deny-all, allow by label, allow from another
namespace by namespace label, an egress deny that breaks DNS and its fix. Each wget (Debian's
wget, through the lab's DNS and the Service's DNAT) must succeed or time out exactly as the
engine predicts on the lab's own snapshot, and the prediction must be the one the tutorial
teaches (so a lab that allowed or denied everything would fail here).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from podwall.lab.lab import Lab
from podwall.model import PortQuery
from tests.lab.names import next_name

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(shutil.which("wget") is None or shutil.which("busybox") is None,
                                 reason="the tutorial test needs wget and busybox "
                                        "(scripts/test.sh installs them)")]

HTTP = PortQuery.parse("TCP/80")
DNS = PortQuery.parse("UDP/53")

DENY_ALL = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
"""
ACCESS_NGINX = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: access-nginx}
spec:
  podSelector: {matchLabels: {app: nginx}}
  ingress:
  - from:
    - podSelector: {matchLabels: {access: "true"}}
    - namespaceSelector: {matchLabels: {team: frontend}}
    ports:
    - port: 80
"""
FRONTEND_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: frontend-egress}
spec:
  podSelector: {matchLabels: {app: frontend}}
  policyTypes: [Egress]
  egress:
  - to:
    - podSelector: {matchLabels: {app: nginx}}
    ports:
    - port: 80
"""
FRONTEND_EGRESS_WITH_DNS = FRONTEND_EGRESS + """\
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
"""


@pytest.fixture
def lab() -> Iterator[Lab]:
    the_lab = Lab(next_name())
    the_lab.down()
    try:
        yield the_lab
    finally:
        the_lab.down()  # also when the test failed
        assert not list(Path("/etc/netns").glob(f"pw-{the_lab.name}-*"))  # resolv.confs too


def podwall(lab: Lab, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "podwall", "lab", *args, "--name", lab.name],
                          input=stdin, capture_output=True, text=True, check=False, timeout=120)


def ok(lab: Lab, *args: str, stdin: str | None = None) -> str:
    proc = podwall(lab, *args, stdin=stdin)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def wget(lab: Lab, pod: str, url: str, namespace: str = "default") -> bool:
    """Debian's wget in the pod: True on an HTTP answer from nginx, False on a timeout."""
    proc = subprocess.run(
        [sys.executable, "-m", "podwall", "lab", "exec", pod, "-n", namespace, "--name", lab.name,
         "--", "wget", "-qO-", "-T", "2", "--tries=1", url],
        capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode == 0:
        assert "pod default/nginx answered" in proc.stdout, proc.stdout
        return True
    # 4: network failure (timed out, or the name did not resolve): what a denial looks like
    assert proc.returncode == 4, (proc.returncode, proc.stderr)
    return False


def predicted(lab: Lab, client: str, *, by_name: bool = True) -> bool:
    """The engine on the lab's snapshot: DNS to CoreDNS (when a name is resolved) and HTTP to
    the pod behind the Service."""
    from podwall.engine import Engine

    engine = Engine(lab.cluster())
    http = engine.check(client, "default/nginx", HTTP).allowed
    dns = engine.check(client, "kube-system/coredns", DNS).allowed
    return http and (dns or not by_name)


def expect(lab: Lab, client: str, url: str, allowed: bool, *, by_name: bool = True) -> None:
    """The tutorial's expectation, the engine's prediction and the kernel's wget agree."""
    assert predicted(lab, client, by_name=by_name) is allowed
    namespace, pod = client.split("/")
    assert wget(lab, pod, url, namespace) is allowed, f"{client} -> {url}"


def test_the_tutorial_with_real_wget(lab: Lab) -> None:
    assert "is up" in ok(lab, "up")  # empty: kube-system, CoreDNS and kube-dns only
    # pods by `lab run`, a Service by `lab expose`
    assert "pod/nginx created" in ok(lab, "run", "nginx", "--labels", "app=nginx", "--port", "80")
    assert "service/nginx exposed" in ok(lab, "expose", "nginx", "--port", "80")
    ok(lab, "run", "client", "--labels", "app=frontend")
    service = json.loads(ok(lab, "get", "svc", "nginx", "-o", "json"))
    cluster_ip = service["spec"]["clusterIP"]
    assert cluster_ip.startswith("10.") and service["spec"]["selector"] == {"app": "nginx"}
    # nothing isolates anything yet: by name (DNS + DNAT), by full name, by ClusterIP
    expect(lab, "default/client", "nginx", True)
    expect(lab, "default/client", "nginx.default.svc.cluster.local", True)
    expect(lab, "default/client", f"http://{cluster_ip}/", True, by_name=False)
    assert wget(lab, "nginx", "nginx")  # a pod reaches itself through its Service (hairpin)

    # deny-all ingress in default: the wget times out, and the change says what it closed
    out = ok(lab, "apply", "-f", "-", stdin=DENY_ALL)
    assert "networkpolicy.networking.k8s.io/default-deny created" in out
    assert "- default/client -> default/nginx" in out
    expect(lab, "default/client", "nginx", False)

    # allow by label: not yet for a client without the label; at once after `lab label`
    assert "access-nginx created" in ok(lab, "apply", "-f", "-", stdin=ACCESS_NGINX)
    expect(lab, "default/client", "nginx", False)
    out = ok(lab, "label", "pod", "client", "access=true")
    assert "pod/client labeled" in out and "+ default/client -> default/nginx TCP/80" in out
    expect(lab, "default/client", "nginx", True)
    assert "access-nginx   app=nginx" in ok(lab, "get", "netpol")
    described = ok(lab, "describe", "networkpolicy", "access-nginx")
    assert "PodSelector: access=true" in described and "Selects:   1 endpoint" in described

    # allow from another namespace by namespace label (a pod label is not enough there)
    ok(lab, "run", "client", "-n", "other", "--labels", "app=frontend,access=true")
    expect(lab, "other/client", "nginx.default", False)
    out = ok(lab, "label", "namespace", "other", "team=frontend")
    assert "+ other/client -> default/nginx TCP/80" in out
    expect(lab, "other/client", "nginx.default", True)

    # an egress policy that forgets DNS: the name no longer resolves (the ClusterIP still works)
    ok(lab, "apply", "-f", "-", stdin=FRONTEND_EGRESS)
    expect(lab, "default/client", "nginx", False)
    expect(lab, "default/client", f"http://{cluster_ip}/", True, by_name=False)
    nslookup = subprocess.run(
        [sys.executable, "-m", "podwall", "lab", "exec", "client", "--name", lab.name, "--",
         "timeout", "5", "busybox", "nslookup", "nginx.default.svc.cluster.local"],
        capture_output=True, text=True, check=False, timeout=60)
    assert nslookup.returncode != 0 and cluster_ip not in nslookup.stdout
    # the fix: DNS egress to kube-dns in kube-system
    out = ok(lab, "apply", "-f", "-", stdin=FRONTEND_EGRESS_WITH_DNS)
    assert "frontend-egress configured" in out
    assert "+ default/client -> kube-system/coredns" in out
    expect(lab, "default/client", "nginx", True)
    nslookup = subprocess.run(
        [sys.executable, "-m", "podwall", "lab", "exec", "client", "--name", lab.name, "--",
         "busybox", "nslookup", "nginx.default.svc.cluster.local"],
        capture_output=True, text=True, check=False, timeout=60)
    assert nslookup.returncode == 0 and cluster_ip in nslookup.stdout, nslookup.stdout

    # applying the same object again changes nothing; deleting the deny-all reopens ingress
    assert "frontend-egress unchanged" in ok(lab, "apply", "-f", "-",
                                             stdin=FRONTEND_EGRESS_WITH_DNS)
    out = ok(lab, "delete", "networkpolicy", "default-deny")
    assert 'networkpolicy.networking.k8s.io "default-deny" deleted' in out
    ok(lab, "label", "pod", "client", "access-")
    expect(lab, "default/client", "nginx", False)  # access-nginx still isolates nginx
    ok(lab, "delete", "networkpolicy", "access-nginx")
    expect(lab, "default/client", "nginx", True)


POD = """
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec:
  containers:
  - name: db
    ports: [{containerPort: 5432, name: pg}]
status: {podIP: 10.244.9.9}
"""


def test_the_verbs_outputs_and_errors(lab: Lab) -> None:
    from click.testing import CliRunner

    from podwall.cli.main import cli

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        # --name before the arguments: everything after `--` belongs to `exec`'s command
        result = CliRunner().invoke(cli, ["lab", args[0], "--name", lab.name, *args[1:]],
                                    input=stdin)
        return result.exit_code, result.output

    assert run("up")[0] == 0
    code, out = run("run", "a", "--port", "80", "--port", "53/udp", "-o", "json")
    assert code == 0, out
    data = json.loads(out)
    assert data["changes"] == [{"kind": "Pod", "namespace": "default", "name": "a",
                                "action": "created"}]
    assert data["connectivity"]["endpoints"][0]["endpoint"] == "default/a"
    assert run("run", "a")[1].endswith('Error from server (AlreadyExists): pods "a" already '
                                       "exists\n")
    code, out = run("apply", "-f", "-", stdin=POD)
    assert code == 0 and "pod/db created" in out, out
    items = json.loads(run("get", "pods", "-A", "-o", "json")[1])["items"]
    assert {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items} == {
        ("default", "a"), ("shop", "db"), ("kube-system", "coredns")}
    db = yaml.safe_load(run("get", "po", "db", "-n", "shop", "-o", "yaml")[1])
    assert db["status"]["podIP"] == "10.244.9.9" and db["kind"] == "Pod"
    assert "unchanged" in run("apply", "-f", "-", stdin=POD)[1]
    code, out = run("get", "pods", "nope")
    assert code == 2 and 'pods "nope" not found' in out
    code, out = run("exec", "nope", "--", "true")
    assert code == 2 and 'pods "nope" not found' in out
    assert run("exec", "a", "--", "sh", "-c", "exit 3")[0] == 3
    assert run("exec", "db", "-n", "shop", "--", "true")[0] == 0
    assert run("apply")[0] == 2
    assert run("describe", "netpol", "nope")[0] == 2
    code, out = run("label", "pod", "a", "bad key=x")
    assert code == 2 and "metadata.labels: Invalid value" in out
    listed = json.loads(CliRunner().invoke(cli, ["lab", "list", "-o", "json"]).output)
    assert any(entry["name"] == lab.name and entry["pods"] == 3 for entry in listed["labs"])
    code, out = run("delete", "pod", "a")
    assert code == 0 and out.startswith('pod "a" deleted\n') and "endpoint removed" in out
    code, out = run("delete", "namespace", "shop")
    assert code == 0 and 'namespace "shop" deleted' in out
    assert [p["metadata"]["name"] for p in json.loads(
        run("get", "pods", "-A", "-o", "json")[1])["items"]] == ["coredns"]
