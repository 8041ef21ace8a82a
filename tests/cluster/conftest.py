"""Shared set-up for the live-cluster tests: certificates, a kubeconfig writer, the fake server."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.fake_apiserver import Certificates, load_recorded, make_certificates

RECORDED = Path(__file__).parent / "recorded" / "kind-shop"
TOKEN = "pw-t0ken-Zq81xR7"  # must never appear in any output


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: the TLS tests of live clusters need it to make a "
                    "test CA (scripts/test.sh installs it as root)")
    return make_certificates(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def recorded() -> dict[str, dict[str, Any]]:
    return load_recorded(RECORDED)


@pytest.fixture
def write_kubeconfig(tmp_path: Path) -> Callable[..., Path]:
    def write(config: dict[str, Any], name: str = "config") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path
    return write


@pytest.fixture(autouse=True)
def _no_ambient_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Tests see only the configuration they make: no ~/.kube/config, no $KUBECONFIG, no pod."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr("podwall.cluster.config.SERVICE_ACCOUNT_DIR", str(tmp_path / "no-sa"))
    yield


def as_list_file(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
                    encoding="utf-8")
    return path
