"""The verbs without PATH, `snapshot`, `diff --cluster`, and `kubectl podwall`, end to end."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from podwall.cli.main import cli
from tests.cluster.conftest import TOKEN
from tests.cluster.fake_apiserver import Certificates, FakeApiServer, kubeconfig

ROOT = Path(__file__).resolve().parents[2]
CHECK = ("--from", "shop/web-7d9f8b6c5d-x7k2p", "--to", "shop/db-0", "--port", "TCP/5432")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def live(recorded: dict[str, Any], certs: Certificates, write_kubeconfig: Callable[..., Path],
         monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApiServer]:
    """The recorded kind cluster behind TLS and a token, as the current kubeconfig context."""
    with FakeApiServer(recorded, token=TOKEN, tls=certs) as fake:
        config = kubeconfig(fake.url, user={"token": TOKEN},
                            cluster={"certificate-authority": certs.ca_cert})
        second = kubeconfig("https://127.0.0.1:1", context="elsewhere")
        del second["current-context"]
        monkeypatch.setenv("KUBECONFIG", os.pathsep.join([
            str(write_kubeconfig(second, "second")), str(Path("/nonexistent/config")),
            str(write_kubeconfig(config, "first"))]))
        yield fake


def test_check_without_path_reads_the_current_context(live: FakeApiServer) -> None:
    code, out, err = run("check", *CHECK)
    assert code == 0, err
    assert out.startswith("ALLOWED shop/web-7d9f8b6c5d-x7k2p -> shop/db-0 TCP/5432")
    assert "allowed by shop/db-from-web ingress[0]" in out
    assert {r.path for r in live.requests} >= {"/api/v1/pods", "/apis/apps/v1/deployments"}


def test_validate_names_the_cluster_where_a_file_would_stand(live: FakeApiServer) -> None:
    code, out, err = run("validate", "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["valid"] and report["policies"] == 5 and report["namespaces"] == 6
    # hostNetwork pods share their node's IP: the one warning a kind cluster gives
    assert [d["file"] for d in report["diagnostics"]] == ["cluster:kind-test"]


def test_every_understanding_verb_reads_the_cluster(live: FakeApiServer,
                                                    tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    for args, shows in ((["matrix", "--port", "TCP/5432", "-o", "json"], "shop/db-0"),
                        (["explain"], "shop/db-0"), (["graph", "-o", "mermaid"], "subgraph"),
                        (["lint"], "cluster:kind-test: warning PW005 Namespace local-path-storage"),
                        (["report", "-o", str(report)], "")):
        code, out, err = run(*args)
        assert code == 0, (args, err)
        assert shows in out, args
    assert "db-0" in report.read_text()


def test_context_and_namespace_before_the_verb(live: FakeApiServer) -> None:
    code, _, err = run("--context", "elsewhere", "check", *CHECK)
    assert code == 2 and "cluster elsewhere (https://127.0.0.1:1): cannot reach" in err
    code, _, err = run("--context", "elsewhere", "-n", "shop", "check", "--context",
                         "kind-test", *CHECK)
    assert code == 0, err


def test_unknown_context_lists_the_contexts(live: FakeApiServer) -> None:
    code, out, err = run("check", "--context", "prod", *CHECK)
    assert code == 2 and out == ""
    assert err == "podwall: $KUBECONFIG: context 'prod' not found (contexts: elsewhere, " \
                  "kind-test)\n"


@pytest.mark.parametrize("case", ["token", "forbidden", "tls"])
def test_errors_exit_2_in_words_without_credentials(
        case: str, recorded: dict[str, Any], certs: Certificates,
        write_kubeconfig: Callable[..., Path]) -> None:
    forbidden = {"/apis/apps/v1/replicasets"} if case == "forbidden" else set()
    with FakeApiServer(recorded, token="server-" + TOKEN, tls=certs,
                       forbidden=forbidden) as fake:
        token = "server-" + TOKEN if case == "forbidden" else TOKEN
        ca = certs.other_ca_cert if case == "tls" else certs.ca_cert
        path = write_kubeconfig(kubeconfig(fake.url, user={"token": token},
                                           cluster={"certificate-authority": ca}))
        code, out, err = run("matrix", "--kubeconfig", str(path))
    assert code == 2 and out == ""
    assert err.startswith("podwall: cluster kind-test (https://127.0.0.1:")
    assert "Traceback" not in err and TOKEN not in err
    expected = {"token": "401", "forbidden": "may not list replicasets.apps",
                "tls": "TLS failure"}[case]
    assert expected in err


def test_no_path_and_no_cluster_says_what_to_give() -> None:
    code, _, err = run("check", *CHECK)
    assert code == 2
    assert "no PATH given and no cluster configured" in err


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_snapshot_answers_as_the_cluster_does(live: FakeApiServer, tmp_path: Path,
                                              suffix: str) -> None:
    out_file = tmp_path / f"cluster.{suffix}"
    code, _, err = run("snapshot", "-o", str(out_file))
    assert code == 0, err
    assert f"31 objects from cluster kind-test ({live.url}) written to {out_file}" in err
    data = (json.loads if suffix == "json" else yaml.safe_load)(out_file.read_text())
    assert data["kind"] == "List" and len(data["items"]) == 31
    assert data["metadata"]["annotations"]["podwall.io/context"] == "kind-test"
    assert TOKEN not in out_file.read_text()
    for args in (["check", *CHECK], ["matrix", "-o", "json"], ["explain", "-o", "json"]):
        from_file = run(*args[:1], str(out_file), *args[1:])[1]
        # the same answers; only where the objects came from differs (a YAML file has lines)
        assert run(*args)[1] == re.sub(re.escape(str(out_file)) + r"(:\d+)?", "cluster:kind-test",
                                       from_file)


def test_diff_cluster_shows_what_applying_would_change(live: FakeApiServer,
                                                       tmp_path: Path) -> None:
    change = tmp_path / "np.yaml"
    change.write_text(yaml.safe_dump({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "web-to-db", "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"],
                 "egress": []}}))
    code, out, err = run("diff", "--cluster", str(change), "--port", "TCP/5432",
                         "--fail-on", "removed")
    assert code == 1, err
    assert "- shop/* -> shop/db-0 TCP/5432  (no longer admitted: shop/web-to-db changed)" in out
    assert "0 endpoints added, 0 endpoints removed" in out  # the live pods are all still there
    code, out, err = run("diff", "--cluster", str(ROOT / "examples" / "three-tier"))
    assert code == 0, err
    code, _, err = run("diff", "--cluster")
    assert code == 2 and "diff --cluster takes PATH..." in err
    # a file without kube-dns: its implied stand-in is not added beside the cluster's own
    code, out, err = run("diff", "--cluster", str(change), "-o", "json")
    assert code == 0, err
    assert json.loads(out)["summary"]["endpointsAdded"] == 0


def test_progress_on_a_terminal(live: FakeApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from podwall.cli import live as live_cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(live_cli.sys, "stderr", terminal)
    read = live_cli.read_live()
    shown = terminal.getvalue()
    assert len(read.objects) == 31
    assert "reading cluster kind-test: 14/14 kinds, 31 objects…" in shown
    assert shown.endswith("\r\x1b[K")  # erased when done


def _as_plugin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; sys.argv[0] = 'kubectl-podwall'; from podwall.cli.main import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)


def test_help_and_usage_name_the_plugin(live: FakeApiServer) -> None:
    shown = _as_plugin("--help", env=dict(os.environ))
    assert shown.stdout.startswith("Usage: kubectl podwall [OPTIONS] COMMAND [ARGS]...")
    assert "    kubectl podwall check examples/three-tier/" in shown.stdout
    usage = _as_plugin("check", "--nope", env=dict(os.environ))
    assert usage.returncode == 2
    assert "Usage: kubectl podwall check [OPTIONS] [PATHS]..." in usage.stderr
    assert "Try 'kubectl podwall check --help' for help." in usage.stderr
    example = _as_plugin("diff", "--help", env=dict(os.environ))
    assert "kubectl podwall diff --cluster --context prod k8s/" in example.stdout


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_runs_it_as_a_plugin(live: FakeApiServer, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    plugin = bin_dir / "kubectl-podwall"
    plugin.write_text(f"#!{sys.executable}\nfrom podwall.cli.main import main\nmain()\n")
    plugin.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(["kubectl", "podwall", "--context", "kind-test", "-n", "shop",
                           "check", *CHECK], capture_output=True, text=True, env=env,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ALLOWED shop/web-7d9f8b6c5d-x7k2p -> shop/db-0")
