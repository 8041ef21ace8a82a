"""One plural rule for every count in human output ("1 namespace", "2 namespaces")."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.analysis.wording import lint_summary_words, plural
from podwall.cli.main import cli


@pytest.mark.parametrize(("count", "noun", "expected"), [
    (0, "namespace", "0 namespaces"), (1, "namespace", "1 namespace"),
    (2, "namespace", "2 namespaces"), (1, "policy", "1 policy"), (3, "policy", "3 policies"),
    (2, "box", "2 boxes"), (2, "class", "2 classes"), (2, "info", "2 info"),
    (2, "person", "2 people")])
def test_plural(count: int, noun: str, expected: str) -> None:
    many = "people" if noun == "person" else None
    assert plural(count, noun, many) == expected


def test_lint_summary_counts_in_words() -> None:
    assert lint_summary_words(1, 0, 2) == "3 findings: 1 error, 0 warnings, 2 info"


def test_validate_says_1_namespace(tmp_path: Path) -> None:
    manifest = tmp_path / "one.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
        "spec: {containers: [{name: c, image: x}]}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n")
    result = CliRunner().invoke(cli, ["validate", str(manifest)])
    assert result.exit_code == 0, result.output
    assert "1 namespace, 1 endpoint, 1 policy" in result.output
    assert "in 3 documents" in result.output


def test_model_counts_in_words_too() -> None:
    """The model's own messages use the same rule (podwall.model.words)."""
    from podwall.model import Endpoint, Labels, build_cluster

    eps = [Endpoint("a", f"p{i}", Labels({})) for i in range(3)]
    with pytest.raises(ValueError, match="room for 2 more addresses but 3 endpoints need one"):
        build_cluster([], eps, [], pod_cidr="10.0.0.0/30")  # .1 and .2
    taken = Endpoint("a", "x", Labels({}), ip=ipaddress.ip_address("10.0.0.1"))
    with pytest.raises(ValueError, match="room for 1 more address but 3 endpoints need one"):
        build_cluster([], [taken, *eps], [], pod_cidr="10.0.0.0/30")
