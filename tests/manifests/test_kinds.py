"""A kind the API server does not serve in a stable built-in apiVersion is an error, as kubectl's
"no matches for kind", with a hint; kinds of other groups and versions are skipped as before."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

from podwall.errors import Severity
from podwall.manifests import kinds
from podwall.manifests.suggest import distance, nearest
from tests.manifests.helpers import errors_of, load_text, only


def _object(kind: str, api_version: str) -> str:
    return (f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n"
            "spec:\n  podSelector: {}\n")


@pytest.mark.parametrize(("kind", "api_version", "hint"), [
    ("Network Policy", "networking.k8s.io/v1", "did you mean NetworkPolicy?"),
    ("networkpolicy", "networking.k8s.io/v1", "did you mean NetworkPolicy?"),
    ("NetworkPolicies", "networking.k8s.io/v1", "did you mean NetworkPolicy?"),
    ("NetworkPolcy", "networking.k8s.io/v1", "did you mean NetworkPolicy?"),
    ("Namspace", "v1", "did you mean Namespace?"),
    ("Deploymnet", "apps/v1", "did you mean Deployment?"),
    ("Deployment", "v1", "did you mean apiVersion: apps/v1?"),
    ("Deploymnet", "v1", "did you mean Deployment in apps/v1?"),
    ("pod", "v1", "did you mean Pod?"),
])
def test_a_kind_not_served_in_a_known_version_is_an_error_with_a_hint(
        kind: str, api_version: str, hint: str) -> None:
    result = load_text(_object(kind, api_version))
    d = only([d for d in result.diagnostics if d.severity is Severity.ERROR])
    assert d.path == "kind" and d.line == 2, str(d)
    assert d.message == (f'no matches for kind "{kind}" in version "{api_version}": {hint}')
    assert not result.cluster.policies and not result.cluster.endpoints


def test_no_hint_when_nothing_is_near() -> None:
    d = only(errors_of(_object("Frobnicator", "v1")))
    assert d.message == 'no matches for kind "Frobnicator" in version "v1"'


@pytest.mark.parametrize(("kind", "api_version"), [
    ("ConfigMap", "v1"), ("Secret", "v1"), ("Ingress", "networking.k8s.io/v1"),
    ("CustomResourceDefinition", "apiextensions.k8s.io/v1"),
    ("Certificate", "cert-manager.io/v1"), ("Whatever", "example.com/v1"),
    ("PodSecurityPolicy", "policy/v1beta1"),  # not served any more, but not a typo: skipped
    ("ConfigMapList", "v1"),  # a List without items
])
def test_kinds_of_other_groups_or_versions_are_skipped_and_listed_with_verbose(
        kind: str, api_version: str) -> None:
    result = load_text(_object(kind, api_version))
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR]
    d = only(list(result.diagnostics))
    assert d.severity is Severity.INFO and "skipped" in d.message


def test_the_kinds_podwall_reads_load_as_before() -> None:
    result = load_text(_object("NetworkPolicy", "networking.k8s.io/v1")
                       + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n")
    assert not result.diagnostics
    assert len(result.cluster.policies) == 1


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert distance("deploymnet", "deployment", 3) == 1
    assert distance("abc", "xyz", 1) == 2  # beyond the limit: limit + 1
    assert nearest("to", ["tls", "from"]) is None  # short words get no slack
    assert nearest("ingres", ["egress", "ingress"]) == "ingress"


LIGHTKUBE = importlib.util.find_spec("lightkube.resources") is not None


@pytest.mark.skipif(not LIGHTKUBE, reason="lightkube is not installed: the table is not compared")
def test_the_table_is_lightkube_models_stable_resources() -> None:
    import lightkube.resources as resources

    found: dict[str, set[str]] = {}
    for module_info in pkgutil.iter_modules(resources.__path__):
        module = importlib.import_module(f"lightkube.resources.{module_info.name}")
        for name in dir(module):
            obj = getattr(module, name)
            info = getattr(obj, "_api_info", None)
            if info is None or not isinstance(obj, type) or info.parent is not None:
                continue
            r = info.resource
            if re.fullmatch(r"v[0-9]+", r.version):
                found.setdefault(f"{r.group}/{r.version}" if r.group else r.version,
                                 set()).add(r.kind)
    assert {v: frozenset(k) for v, k in found.items()} == kinds.SERVED
