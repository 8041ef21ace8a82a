"""A fake Kubernetes API server: only the list calls podwall makes, served as kube-apiserver does.

There is no kube-apiserver for this machine (not on PyPI, npm or Debian), so podwall's live read
is tested against this. It is a fake, kept small and faithful where podwall depends on the
server's behaviour:
- `GET /api/v1/<plural>` and `GET /apis/<group>/<version>/<plural>` answer a `<Kind>List` whose
  items carry no `kind` or `apiVersion` (the real server leaves them out of list items);
- `limit` and `continue` page a list; `metadata.continue` is an opaque token and
  `metadata.remainingItemCount` is set while items remain; with `page_cap` the server returns
  fewer items than `limit` (and still a `continue`), which the real one may do;
- errors are `Status` objects: 401 Unauthorized without the bearer token, 403 Forbidden with
  the message RBAC writes, 404 NotFound for a resource the server does not serve, 410 Expired
  for a continue token that does not belong to the list;
- TLS with a certificate from a test CA (see `make_certificates`), optionally requiring a
  client certificate signed by that CA.

It records each request's path, query and whether it carried credentials — never the
credentials themselves.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from podwall.cluster import KINDS

PATHS = {k.kind: k.path for k in KINDS}
PLURALS = {k.path: k.plural for k in KINDS}
GROUPS = {k.path: k.api_version.rpartition("/")[0] for k in KINDS}


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Failure", "message": message, "reason": reason}
    if details is not None:
        out["details"] = details
    out["code"] = code
    return out


def list_response(kind: str, items: Iterable[dict[str, Any]], resource_version: str = "4242"
                  ) -> dict[str, Any]:
    """A `<Kind>List` as the server sends it: items without kind/apiVersion."""
    api_version = next(k.api_version for k in KINDS if k.kind == kind)
    stripped = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")}
                for item in items]
    return {"kind": f"{kind}List", "apiVersion": api_version,
            "metadata": {"resourceVersion": resource_version}, "items": stripped}


def lists_from_objects(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Group objects (with kind and apiVersion) into the List every path answers."""
    by_kind: dict[str, list[dict[str, Any]]] = {k.kind: [] for k in KINDS}
    for obj in objects:
        by_kind[obj["kind"]].append(obj)
    return {PATHS[kind]: list_response(kind, items) for kind, items in by_kind.items()}


def load_recorded(directory: Path) -> dict[str, dict[str, Any]]:
    """Recorded responses: one `<Kind>List` per file, named after its path
    (`apis_apps_v1_deployments.json` answers `/apis/apps/v1/deployments`)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        out["/" + path.stem.replace("_", "/")] = json.loads(path.read_text(encoding="utf-8"))
    return out


@dataclass
class Request:
    path: str
    query: dict[str, str]
    authenticated: bool


@dataclass
class FakeApiServer:
    lists: dict[str, dict[str, Any]]
    token: str | None = None
    tls: Certificates | None = None
    client_cert_required: bool = False
    forbidden: set[str] = field(default_factory=set)  # paths the user may not list
    page_cap: int | None = None  # serve at most this many items a page, whatever the limit
    expire: int = 0  # answer this many requests with a continue token 410 Expired (compaction)
    user: str = "alice"
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def __enter__(self) -> FakeApiServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
            if self.client_cert_required:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(self.tls.ca_cert)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- the API -------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        credentials = handler.headers.get("Authorization")
        with self._lock:
            self.requests.append(Request(url.path, query, credentials is not None))
        if self.token is not None and credentials != f"Bearer {self.token}":
            self._send(handler, 401, status(401, "Unauthorized", "Unauthorized"))
            return
        listing = self.lists.get(url.path)
        if listing is None:
            self._send(handler, 404, status(404, "NotFound",
                                            "the server could not find the requested resource",
                                            {}))
            return
        if url.path in self.forbidden:
            plural, group = PLURALS[url.path], GROUPS[url.path]
            message = (f'{plural} is forbidden: User "{self.user}" cannot list resource '
                       f'"{plural}" in API group "{group}" at the cluster scope')
            self._send(handler, 403, status(403, "Forbidden", message, {"kind": plural}))
            return
        self._page(handler, url.path, listing, query)

    def _page(self, handler: BaseHTTPRequestHandler, path: str, listing: dict[str, Any],
              query: dict[str, str]) -> None:
        items = listing.get("items") or []
        version = str((listing.get("metadata") or {}).get("resourceVersion", "1"))
        start = 0
        if query.get("continue") and self.expire > 0:
            with self._lock:
                self.expire -= 1
            token_ok = False
        else:
            token_ok = True
        if query.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(query["continue"]))
                start, ok = int(token["start"]), token["rv"] == version and token["path"] == path
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok or not token_ok:
                self._send(handler, 410, status(
                    410, "Expired", "The provided continue parameter is too old to display a "
                    "consistent list result. You can start a new list without the continue "
                    "parameter."))
                return
        limit = int(query["limit"]) if query.get("limit", "").isdigit() else 0
        size = limit if limit > 0 else len(items)
        if self.page_cap is not None:
            size = min(size, self.page_cap)
        chunk = items[start:start + size]
        end = start + len(chunk)
        meta: dict[str, Any] = {"resourceVersion": version}
        if limit > 0 and end < len(items):
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"rv": version, "start": end, "path": path}).encode()).decode()
            meta["remainingItemCount"] = len(items) - end
        body = {**listing, "metadata": meta, "items": chunk}
        self._send(handler, 200, body)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


# -- certificates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Certificates:
    ca_cert: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    other_ca_cert: str  # a CA that did not sign the server's certificate


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path) -> Certificates:
    """A test CA, a server certificate for 127.0.0.1 and a client certificate it signed, and an
    unrelated CA (EC P-256 keys: fast to make)."""
    d = directory
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", *key, "-keyout", f"{name}.key", "-out", f"{name}.crt",
                 "-days", "2", "-subj", f"/CN=podwall test {name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    for name, subject in (("server", "/CN=fake-apiserver"), ("client", "/O=system:masters/CN=alice")):
        _openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
                 cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "2",
                 "-extfile", f"{name}.ext", cwd=d)
    return Certificates(str(d / "ca.crt"), str(d / "server.crt"), str(d / "server.key"),
                        str(d / "client.crt"), str(d / "client.key"), str(d / "other-ca.crt"))


def kubeconfig(server: str, *, context: str = "kind-test", user: dict[str, Any] | None = None,
               cluster: dict[str, Any] | None = None) -> dict[str, Any]:
    """A kubeconfig with one context, as `kind` writes them."""
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": context, "user": user or {}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
    }
