"""The implied kube-dns is marked "implied" wherever a verb shows it (issue 9).

Every verb runs on a directory without CoreDNS (examples/backup-ipblock): in text, every line
that names `kube-system/coredns` marks it `(implied)` at its first mention; in JSON, the object
that names it carries `implied`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
NO_DNS = str(ROOT / "examples" / "backup-ipblock")
KEY = "kube-system/coredns"

DNS_EGRESS = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-dns, namespace: data}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}]
"""

REAL_DNS = """\
---
apiVersion: v1
kind: Pod
metadata: {name: coredns-abc, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 53, protocol: UDP}]}]}
"""

KUBE_SYSTEM_POD = """\
---
apiVersion: v1
kind: Pod
metadata: {name: metrics, namespace: kube-system, labels: {app: metrics}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 53, protocol: UDP}]}]}
"""


LOCK_KUBE_SYSTEM = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: lock, namespace: kube-system}
spec: {podSelector: {}, policyTypes: [Egress]}
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def with_extra(tmp_path: Path, *extra: str) -> str:
    text = (Path(NO_DNS) / "all.yaml").read_text() + "".join(extra)
    out = tmp_path / "new"
    out.mkdir(exist_ok=True)
    (out / "all.yaml").write_text(text)
    return str(out)


def unmarked(text: str) -> list[str]:
    """Lines that name the implied endpoint and never mark it."""
    mention = re.compile(re.escape(KEY) + r"(?![\w-])")
    marked = re.compile(re.escape(KEY) + r"(`? \((implied|with implied)|  \([^)]*\bimplied\b)"
                        + "|with implied " + re.escape(KEY))
    return [line for line in text.splitlines()
            if mention.search(line) and not marked.search(line)]


TEXT_RUNS = [
    ("check", "--from", "data/db", "--to", KEY, "--port", "UDP/53"),
    ("check", "--from", KEY, "--to", "data/db", "--port", "TCP/5432"),
    ("check", "--from", "data/db", "--to", "svc/kube-system/kube-dns", "--port", "UDP/53"),
    ("check", "--from", "data/db", "--to", "10.96.0.10", "--port", "UDP/53"),
    ("check", "--from", KEY, "--to", "8.8.8.8", "--port", "UDP/53"),
    ("matrix",), ("matrix", "-o", "md"), ("matrix", "--outside"), ("matrix", "--services"),
    ("explain",), ("explain", "--focus", KEY),
    ("graph",), ("graph", "-o", "mermaid"),
    ("exposure",), ("exposure", "-o", "md"),
    ("lint",),
]


@pytest.mark.parametrize("args", TEXT_RUNS, ids=[" ".join(a) for a in TEXT_RUNS])
def test_every_text_output_marks_it(args: tuple[str, ...]) -> None:
    _, out = run(args[0], NO_DNS, *args[1:])
    assert KEY in out or "coredns (implied)" in out
    assert unmarked(out) == []


def test_check_marks_the_side_lines_too() -> None:
    _, out = run("check", NO_DNS, "--from", "data/db", "--to", KEY, "--port", "UDP/53")
    assert out.splitlines() == [
        f"DENIED  data/db -> {KEY} (implied) UDP/53",
        "  egress at data/db: denied — isolated by data/db-egress-backup-only; no rule admits "
        f"{KEY} (implied)",
        f"  ingress at {KEY} (implied): allowed ({KEY} is not isolated for ingress)"]


def test_diff_marks_changed_lines_endpoints_and_outside(tmp_path: Path) -> None:
    code, out = run("diff", NO_DNS, with_extra(tmp_path, DNS_EGRESS))
    assert code == 0
    assert f"+ data/db -> {KEY} (implied) UDP/53  (allowed by data/db-dns egress[0])" in out
    _, out = run("diff", NO_DNS, with_extra(tmp_path, DNS_EGRESS), "-o", "md")
    assert f"+ data/db -> {KEY} (implied) UDP/53" in out
    data = json.loads(run("diff", NO_DNS, with_extra(tmp_path, DNS_EGRESS), "-o", "json")[1])
    assert data["changes"][0]["to"] == KEY and data["changes"][0]["implied"] == [KEY]
    # a real CoreDNS in NEW: the implied one goes (marked), the real one comes (unmarked)
    _, out = run("diff", NO_DNS, with_extra(tmp_path, REAL_DNS), "--port", "UDP/53")
    assert f"endpoint removed: {KEY} (implied) (could reach 1 endpoint" in out
    assert f"- {KEY} (implied) -> data/db UDP/53" in out
    assert f"- {KEY} (implied) -> 0.0.0.0/0 except" in out
    assert "+ kube-system/coredns-abc -> data/db UDP/53" in out
    assert unmarked(out) == []
    data = json.loads(run("diff", NO_DNS, with_extra(tmp_path, REAL_DNS), "--port", "UDP/53",
                          "-o", "json")[1])
    gone = next(e for e in data["endpoints"] if e["change"] == "removed")
    assert gone["implied"] == [KEY] and gone["connections"][0]["implied"] == [KEY]
    outside = [o for o in data["outside"] if o["change"] == "removed"]
    assert outside and all(o["implied"] == [KEY] for o in outside)
    came = next(e for e in data["endpoints"] if e["change"] == "added")
    assert "implied" not in came


def test_diff_and_exposure_mark_a_group_that_holds_it(tmp_path: Path) -> None:
    """`kube-system/*` standing for a real pod and the implied one says which is implied."""
    old = with_extra(tmp_path, KUBE_SYSTEM_POD)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "all.yaml").write_text(Path(old, "all.yaml").read_text() + LOCK_KUBE_SYSTEM)
    _, out = run("diff", old, str(locked), "--port", "UDP/53")
    assert f"- kube-system/* (with implied {KEY}) -> data/db UDP/53" in out
    assert f"- kube-system/* (with implied {KEY}) -> 0.0.0.0/0 except" in out
    assert unmarked(out) == []
    _, out = run("exposure", old)
    assert f"-> kube-system/* (with implied {KEY}) every port" in out
    assert unmarked(out) == []


def _objects_naming(data: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(data, dict):
        if any(v == KEY or (isinstance(v, list) and KEY in v) for v in data.values()):
            found.append(data)
        for v in data.values():
            found.extend(_objects_naming(v))
    elif isinstance(data, list):
        for v in data:
            found.extend(_objects_naming(v))
    return found


JSON_RUNS = [("exposure",), ("graph",), ("matrix",),
             ("check", "--from", "data/db", "--to", KEY, "--port", "UDP/53")]


@pytest.mark.parametrize("args", JSON_RUNS, ids=[" ".join(a) for a in JSON_RUNS])
def test_json_says_implied(args: tuple[str, ...]) -> None:
    _, out = run(args[0], NO_DNS, *args[1:], "-o", "json")
    data = json.loads(out)
    if args[0] in ("matrix", "check"):
        assert data["implied"] == [KEY]
        return
    objects = _objects_naming(data)
    assert objects
    for obj in objects:
        assert obj.get("implied") in ([KEY], True), obj


def test_explain_json_marks_the_endpoint() -> None:
    data = json.loads(run("explain", NO_DNS, "-o", "json")[1])
    entry = next(e for e in data["endpoints"] if e["endpoint"] == KEY)
    assert entry["implied"] is True


def test_namespace_graph_and_report_count_it() -> None:
    _, out = run("graph", NO_DNS, "--namespaces")
    assert "1 endpoint (1 implied) in 1 box" in out
    _, out = run("report", NO_DNS, "-o", "json")
    data = json.loads(out)
    cls = next(c for c in data["data"]["classes"] if KEY in c["members"])
    assert cls["implied"] == [KEY]
    assert all(o.get("implied") == [KEY] for o in _objects_naming(data["exposure"]))


def test_nothing_is_marked_with_no_implied(tmp_path: Path) -> None:
    _, out = run("exposure", NO_DNS, "--no-implied")
    assert "implied" not in out and KEY not in out
