"""List every kind podwall evaluates from the API server: paged, concurrent, raw JSON.

Why the list calls are made here and not with lightkube's typed `Client.list`: validation reads
the raw fields (as it does for files), and typed models would decode, convert and drop them
first. lightkube supplies what is hard to get right — the kubeconfig models and an HTTP client
with the user's TLS and authentication (token, token file, client certificate, exec plugin) —
and the calls themselves are plain `GET /api[s]/.../<plural>?limit=500&continue=...`.

Namespaces are listed first, alone: that proves the server is reachable, trusted and accepts
the credentials (one clear error instead of one per kind) and lets an exec plugin run once; then
every other kind is listed at once, each on its own thread, page after page. A `continue` token
that expired (410 Gone: the list took longer than the server keeps its snapshots) restarts that
kind's list, as client-go's pager does.

The whole cluster is read whatever namespace is asked about: selectors cross namespaces.
"""

from __future__ import annotations

import binascii
import json
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from podwall.cluster.config import ClusterError, Target

PAGE_SIZE = 500
TIMEOUT_SECONDS = 30.0
RESTARTS = 3  # a list whose continue token keeps expiring is restarted this often, then an error
CNP_GROUP = "policy.networking.k8s.io"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind podwall lists. `required`: without it no answer is right, so a server that does
    not serve it is an error; other kinds the server does not serve simply have no objects.
    `also`: other versions of the same resource, tried in order when the server does not serve
    `api_version` (a CRD installed at another version of network-policy-api); the first one
    served is read, never two (they are views of the same objects)."""

    kind: str
    api_version: str
    plural: str
    required: bool = False
    also: tuple[str, ...] = ()

    @property
    def versions(self) -> tuple[str, ...]:
        return (self.api_version, *self.also)

    @property
    def versions_words(self) -> str:
        """`policy.networking.k8s.io/v1alpha2 or v1beta1`."""
        group = self.api_version.rpartition("/")[0]
        others = [v.rpartition("/")[2] if v.rpartition("/")[0] == group else v
                  for v in self.also]
        return " or ".join([self.api_version, *others])

    @property
    def path(self) -> str:
        prefix = "api" if "/" not in self.api_version else "apis"
        return f"/{prefix}/{self.api_version}/{self.plural}"

    @property
    def resource(self) -> str:
        """`pods`, `deployments.apps`, as RBAC rules and kubectl name it."""
        group = self.api_version.rpartition("/")[0]
        return f"{self.plural}.{group}" if group else self.plural


KINDS: tuple[Kind, ...] = (
    Kind("Namespace", "v1", "namespaces", required=True),
    Kind("Pod", "v1", "pods", required=True),
    Kind("Service", "v1", "services"),
    Kind("ReplicationController", "v1", "replicationcontrollers"),
    Kind("Deployment", "apps/v1", "deployments"),
    Kind("StatefulSet", "apps/v1", "statefulsets"),
    Kind("DaemonSet", "apps/v1", "daemonsets"),
    Kind("ReplicaSet", "apps/v1", "replicasets"),
    Kind("Job", "batch/v1", "jobs"),
    Kind("CronJob", "batch/v1", "cronjobs"),
    Kind("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", required=True),
    # SIG Network's cluster-admin tiers (network-policy-api CRDs): optional, and where they
    # are not installed (404) there are no cluster policies, which is what the server enforces.
    Kind("ClusterNetworkPolicy", f"{CNP_GROUP}/v1alpha2", "clusternetworkpolicies",
         also=(f"{CNP_GROUP}/v1beta1",)),
    Kind("AdminNetworkPolicy", f"{CNP_GROUP}/v1alpha1", "adminnetworkpolicies"),
    Kind("BaselineAdminNetworkPolicy", f"{CNP_GROUP}/v1alpha1", "baselineadminnetworkpolicies"),
)


@dataclass(frozen=True, slots=True)
class Progress:
    """What has been read so far, for a progress line."""

    kinds_done: int
    kinds: int
    objects: int


@dataclass(frozen=True)
class LiveRead:
    """What was read: every object as the server sent it, with kind and apiVersion stamped
    (the items of a `<Kind>List` carry neither), in KINDS order and server order.

    `unserved` names the optional kinds the server does not serve (none of their objects exist).
    """

    target: Target
    objects: tuple[dict[str, Any], ...]
    unserved: tuple[Kind, ...] = ()
    resource_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Failure:
    kind: Kind
    status: int
    reason: str
    message: str


def read_cluster(target: Target, *, kinds: tuple[Kind, ...] = KINDS,
                 progress: Callable[[Progress], None] | None = None,
                 page_size: int = PAGE_SIZE) -> LiveRead:
    """Every object of `kinds` in the cluster. Raises ClusterError when the cluster cannot be
    read completely (a kind the user may not list would make every answer unreliable)."""
    client = _client(target)
    try:
        return _Reader(target, client, kinds, progress, page_size).run()
    except ClusterError:
        raise
    except Exception as exc:  # a bug: say so in one line rather than with a traceback
        raise ClusterError(f"cluster {target.context}: podwall could not read it (a bug, please "
                           f"report it): {type(exc).__name__}: {_first_line(str(exc))}") from None
    finally:
        client.close()


def _client(target: Target) -> Any:
    import httpx2 as httpx
    from lightkube.config.client_adapter import Client, ConnectionParams
    from lightkube.core.exceptions import ConfigError

    params = ConnectionParams(timeout=httpx.Timeout(TIMEOUT_SECONDS))
    where = f"{target.origin}: context {target.context!r}"
    try:
        return Client(target.config, params)
    except ConfigError as exc:
        raise ClusterError(f"{where}: {exc}") from None
    except httpx.InvalidURL as exc:
        raise ClusterError(f"{where}: the server address {target.server!r} is not a valid URL "
                           f"({exc})") from None
    except binascii.Error:
        raise ClusterError(f"{where}: a *-data field (certificate-authority-data, "
                           "client-certificate-data or client-key-data) is not valid base64") \
            from None
    except (OSError, ssl.SSLError) as exc:  # a CA or client-certificate file that is unusable
        missing = [f for f in _files(target) if not Path(f).is_file()]
        reason = f"no such file: {', '.join(missing)}" if missing else _os_reason(exc)
        raise ClusterError(f"{where}: cannot load its certificates: {reason}") from None


def _files(target: Target) -> list[str]:
    cluster, user = target.config.cluster, target.config.user
    names = [cluster.certificate_auth, user.client_cert, user.client_key]
    return [str(n) for n in names if n]


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        name = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{name}"
    return str(exc) or type(exc).__name__


class _Reader:
    def __init__(self, target: Target, client: Any, kinds: tuple[Kind, ...],
                 progress: Callable[[Progress], None] | None, page_size: int) -> None:
        self.target = target
        self.client = client
        self.kinds = kinds
        self.progress = progress
        self.page_size = page_size
        self.lock = threading.Lock()
        self.objects = 0
        self.done = 0

    def run(self) -> LiveRead:
        results: dict[int, list[dict[str, Any]] | _Failure] = {}
        versions: dict[str, str] = {}
        first, rest = self.kinds[0], list(enumerate(self.kinds))[1:]
        results[0] = self._list(first, versions)  # alone: proves reachability, trust, auth
        if rest:
            with ThreadPoolExecutor(max_workers=min(len(rest), 8),
                                    thread_name_prefix="podwall-list") as pool:
                futures = {i: pool.submit(self._list, kind, versions) for i, kind in rest}
                for i, future in futures.items():
                    results[i] = future.result()
        failures = [r for r in results.values() if isinstance(r, _Failure)]
        unserved = tuple(f.kind for f in failures if f.status == 404 and not f.kind.required)
        fatal = [f for f in failures if f.kind not in unserved]
        if fatal:
            raise ClusterError(self._explain(fatal))
        objects: list[dict[str, Any]] = []
        for i in sorted(results):
            got = results[i]
            if not isinstance(got, _Failure):
                objects.extend(got)
        return LiveRead(self.target, tuple(objects), unserved, dict(versions))

    def _list(self, kind: Kind, versions: dict[str, str]) -> list[dict[str, Any]] | _Failure:
        """Every object of the first version of `kind` the server serves (a 404 tries the next
        one; the failure of the last names `kind` itself)."""
        failure: _Failure | None = None
        for at, api_version in enumerate(kind.versions):
            variant = kind if at == 0 else replace(kind, api_version=api_version)
            got = self._list_version(variant, versions)
            if not isinstance(got, _Failure) or got.status != 404:
                return got
            failure = got
        assert failure is not None
        with self.lock:  # not served: nothing to read, and that kind is done
            self.done += 1
            self._report()
        return replace(failure, kind=kind)

    def _list_version(self, kind: Kind,
                      versions: dict[str, str]) -> list[dict[str, Any]] | _Failure:
        items: list[dict[str, Any]] = []
        token: str | None = None
        restarts = 0
        while True:
            params = {"limit": str(self.page_size)}
            if token:
                params["continue"] = token
            page = self._get(kind, params)
            if isinstance(page, _Failure):
                if page.status == 410 and token and restarts < RESTARTS:
                    restarts += 1
                    with self.lock:
                        self.objects -= len(items)
                    items, token = [], None
                    continue
                return page
            got = page.get("items") or []
            if not isinstance(got, list):
                raise ClusterError(f"{self._where()}: GET {kind.path}: the answer is not a "
                                   f"{kind.kind}List")
            for item in got:
                if isinstance(item, dict):
                    # `<Kind>List` items carry no kind/apiVersion: the List's own says what they are.
                    item.setdefault("kind", kind.kind)
                    item.setdefault("apiVersion", kind.api_version)
                    items.append(item)
            raw_meta = page.get("metadata")
            meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
            token = meta.get("continue") or None
            with self.lock:
                self.objects += len(got)
                if token is None:
                    self.done += 1
                    if isinstance(meta.get("resourceVersion"), str):
                        versions[kind.resource] = meta["resourceVersion"]
                self._report()
            if token is None:
                return items

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(Progress(self.done, len(self.kinds), self.objects))

    def _get(self, kind: Kind, params: dict[str, str]) -> dict[str, Any] | _Failure:
        import httpx2 as httpx
        from lightkube.core.exceptions import ConfigError

        try:
            response = self.client.get(kind.path, params=params,
                                       headers={"Accept": "application/json"})
        except ConfigError as exc:  # an exec plugin or token file failed
            raise ClusterError(f"{self._where()}: cannot get credentials: "
                               f"{_first_line(str(exc))}") from None
        except (KeyError, ValueError):  # an exec plugin's answer without a token
            raise ClusterError(f"{self._where()}: cannot get credentials: the exec plugin did "
                               "not answer with a token (status.token of an ExecCredential), "
                               "the only kind of answer podwall supports") from None
        except FileNotFoundError as exc:  # an exec plugin that is not installed
            plugin = f"the exec plugin {exc.filename}" if exc.filename else "an exec plugin"
            raise ClusterError(f"{self._where()}: cannot get credentials: {plugin} is not "
                               "installed") from None
        except httpx.TimeoutException:
            raise ClusterError(f"{self._where()}: the API server did not answer within "
                               f"{TIMEOUT_SECONDS:.0f} s") from None
        except httpx.HTTPError as exc:
            raise ClusterError(self._transport_error(exc)) from None
        if response.status_code == 200:
            try:
                data = json.loads(response.content)
            except (ValueError, RecursionError):
                data = None
            if not isinstance(data, dict):
                raise ClusterError(f"{self._where()}: GET {kind.path}: the answer is not JSON "
                                   f"(is {self.target.server} a Kubernetes API server?)")
            return data
        status = _status(response)
        if response.status_code == 401:
            who = f"user {self.target.user!r}" if self.target.user else "an anonymous user"
            raise ClusterError(
                f"{self._where()}: the API server does not accept the credentials of {who} "
                f"(401 {status.get('reason') or 'Unauthorized'}): they are missing, wrong or "
                "expired; log in again or check the user in the kubeconfig")
        return _Failure(kind, response.status_code, str(status.get("reason") or ""),
                        str(status.get("message") or response.reason_phrase or ""))

    def _where(self) -> str:
        return f"cluster {self.target.context} ({self.target.server})"

    def _transport_error(self, exc: BaseException) -> str:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return (f"{self._where()}: TLS failure: the server's certificate is not trusted "
                        f"({cause.verify_message}); check certificate-authority(-data) of the "
                        f"cluster in {self.target.origin}")
            if isinstance(cause, ssl.SSLError):
                return (f"{self._where()}: TLS failure: {cause.reason or cause}; is the server "
                        "address right, and does it speak HTTPS?")
            cause = cause.__cause__ or cause.__context__
        reason = _first_line(str(exc)) or type(exc).__name__
        return f"{self._where()}: cannot reach the API server: {reason}"

    def _explain(self, failures: list[_Failure]) -> str:
        forbidden = [f for f in failures if f.status == 403]
        lines: list[str] = []
        if forbidden:
            who = f"user {self.target.user!r}" if self.target.user else "this user"
            resources = ", ".join(f.kind.resource for f in forbidden)
            lines.append(f"{self._where()}: {who} may not list {resources} in all namespaces "
                         "(403 Forbidden)")
            lines.extend(f"  {f.message}" for f in forbidden if f.message)
            lines.append(
                "  podwall reads the whole cluster (selectors cross namespaces) and needs the "
                "RBAC verb `list` on every resource it reads, cluster-wide:")
            lines.append("    kubectl create clusterrole podwall-reader --verb=list "
                         f"--resource={','.join(k.resource for k in self.kinds)}")
            lines.append("    kubectl create clusterrolebinding podwall-reader "
                         "--clusterrole=podwall-reader --user=NAME  (or --serviceaccount=NS:NAME)")
        for f in failures:
            if f.status == 403:
                continue
            if f.status == 404:
                lines.append(f"{self._where()}: the server does not serve {f.kind.kind} "
                             f"({f.kind.versions_words}, GET {f.kind.path}: 404 "
                             f"{f.reason or 'NotFound'}); podwall cannot answer without it")
            else:
                lines.append(f"{self._where()}: GET {f.kind.path}: {f.status} {f.reason}: "
                             f"{_first_line(f.message)}".rstrip(": "))
        return "\n".join(lines)


def _status(response: Any) -> dict[str, Any]:
    """The `Status` object the API server sends with an error (empty when it sent none)."""
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) and data.get("kind") == "Status" else {}


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""
