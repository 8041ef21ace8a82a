"""Which cluster to read, and how to authenticate: kubeconfig (as kubectl finds it) or in-cluster.

kubectl's rules (client-go's loading rules), which podwall follows:
- `--kubeconfig FILE` alone, when given (it must exist);
- otherwise `$KUBECONFIG`, a colon-separated list of files merged in order: for each cluster,
  user and context name the first file that defines it wins, and so does the first
  `current-context`; files in the list that do not exist are skipped;
- otherwise `~/.kube/config`;
- otherwise, inside a pod, the service account (token, CA and `$KUBERNETES_SERVICE_HOST`).
Relative paths in a kubeconfig are relative to the file that holds them.

lightkube's own `KubeConfig.from_env` reads the service account first and `$KUBECONFIG` as a single
file, so the files are merged here and lightkube is handed one merged configuration. Messages
never quote a kubeconfig's content: it holds credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podwall.errors import PodwallError

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_KUBECONFIG = "~/.kube/config"

# Fields that name files, per section: client-go resolves these relative to their kubeconfig.
_PATH_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


class ClusterError(PodwallError):
    """The live cluster cannot be read: no configuration, unreachable, TLS, auth, RBAC."""


@dataclass(frozen=True)
class Target:
    """One cluster to read: lightkube's configuration for it, and how to name it to the user."""

    config: Any  # lightkube.config.kubeconfig.SingleConfig
    context: str
    server: str
    origin: str  # where the configuration came from, for messages: a file, or "in-cluster"

    @property
    def source_name(self) -> str:
        """What stands where a file name stands for objects read from a file."""
        return f"cluster:{self.context}"

    @property
    def user(self) -> str | None:
        ctx = self.config.context
        return str(ctx.user) if ctx.user else None


def resolve(kubeconfig: str | None = None, context: str | None = None,
            environ: Mapping[str, str] | None = None) -> Target:
    """The target that kubectl would use with the same flags and environment."""
    env = os.environ if environ is None else environ
    if kubeconfig:
        path = Path(kubeconfig).expanduser()
        if not path.is_file():
            raise ClusterError(f"--kubeconfig {kubeconfig}: no such file")
        return _from_files([path], context, f"--kubeconfig {kubeconfig}")
    listed = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        files = [Path(p).expanduser() for p in listed]
        present = [p for p in files if p.is_file()]
        if not present:
            raise ClusterError(f"$KUBECONFIG names no file that exists ({env['KUBECONFIG']})")
        return _from_files(present, context, "$KUBECONFIG")
    home = env.get("HOME")
    default = Path(home, ".kube", "config") if home else Path(DEFAULT_KUBECONFIG).expanduser()
    if default.is_file():
        return _from_files([default], context, str(default))
    if env.get("KUBERNETES_SERVICE_HOST") and Path(SERVICE_ACCOUNT_DIR, "token").is_file():
        return _in_cluster(env, context)
    raise ClusterError(
        "no PATH given and no cluster configured: pass manifests (PATH...), or a kubeconfig "
        "(--kubeconfig FILE, $KUBECONFIG, or ~/.kube/config)")


def _from_files(files: list[Path], context: str | None, origin: str) -> Target:
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    for path in files:
        data = _read_yaml(path)
        if merged.get("current-context") in (None, "") and data.get("current-context"):
            merged["current-context"] = data["current-context"]
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            entries = data.get(section) or []
            if not isinstance(entries, list):
                raise ClusterError(f"{path}: {section} must be a list")
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                        or not isinstance(entry.get(inner) or {}, dict):
                    raise ClusterError(f"{path}: every entry of {section} needs a name and a "
                                       f"{inner} mapping")
                if entry["name"] in seen[section]:
                    continue
                seen[section].add(entry["name"])
                body = dict(entry.get(inner) or {})
                _absolute_paths(body, _PATH_FIELDS.get(inner, ()), path.parent)
                if inner == "user" and isinstance(body.get("exec"), dict):
                    _absolute_exec(body, path.parent)
                merged[section].append({"name": entry["name"], inner: body})
    name = context or merged.get("current-context")
    contexts = sorted(seen["contexts"])
    if not name:
        raise ClusterError(f"{origin}: no current context: pass --context NAME "
                           f"(contexts: {', '.join(contexts) or 'none'})")
    return _select(merged, str(name), origin, contexts)


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClusterError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError):
        # The parser's message can quote the file's content, which holds credentials.
        raise ClusterError(f"{path}: not a valid kubeconfig (YAML syntax error)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ClusterError(f"{path}: not a valid kubeconfig (expected a mapping)")
    return data


def _absolute_paths(body: dict[str, Any], fields: tuple[str, ...], base: Path) -> None:
    for key in fields:
        value = body.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            body[key] = str(base / value)


def _absolute_exec(body: dict[str, Any], base: Path) -> None:
    """An exec plugin's command is relative to the kubeconfig only when it holds a `/`
    (otherwise it is looked up on PATH), as client-go has it.

    The plugin gets KUBERNETES_EXEC_INFO as from kubectl (non-interactive: podwall may run
    without a terminal). lightkube knows the v1alpha1 and v1beta1 protocols; v1's answer is the
    same (`status.token`), so a v1 plugin is run as v1beta1 for lightkube, told it is v1.
    """
    exec_ = dict(body["exec"])
    command = exec_.get("command")
    if isinstance(command, str) and "/" in command and not Path(command).is_absolute():
        exec_["command"] = str(base / command)
    version = exec_.get("apiVersion")
    if isinstance(version, str):
        info = {"apiVersion": version, "kind": "ExecCredential", "spec": {"interactive": False}}
        env = [e for e in exec_.get("env") or [] if not (isinstance(e, dict) and
                                                         e.get("name") == "KUBERNETES_EXEC_INFO")]
        exec_["env"] = [*env, {"name": "KUBERNETES_EXEC_INFO", "value": json.dumps(info)}]
        if version == "client.authentication.k8s.io/v1":
            exec_["apiVersion"] = "client.authentication.k8s.io/v1beta1"
        exec_.pop("interactiveMode", None)
        exec_.pop("provideClusterInfo", None)
    body["exec"] = exec_


def _select(merged: dict[str, Any], name: str, origin: str, contexts: list[str]) -> Target:
    import msgspec
    from lightkube.config.kubeconfig import KubeConfig, SingleConfig
    from lightkube.config.models import User

    try:
        config = KubeConfig.from_dict(merged)
    except (msgspec.ValidationError, KeyError, TypeError) as exc:
        raise ClusterError(f"{origin}: not a valid kubeconfig: {exc}") from None
    ctx = config.contexts.get(name)
    if ctx is None:
        raise ClusterError(f"{origin}: context {name!r} not found "
                           f"(contexts: {', '.join(contexts) or 'none'})")
    cluster = config.clusters.get(ctx.cluster)
    if cluster is None:
        raise ClusterError(f"{origin}: context {name!r} names cluster {ctx.cluster!r}, "
                           "which is not defined")
    user = User()
    if ctx.user:
        found = config.users.get(ctx.user)
        if found is None:
            raise ClusterError(f"{origin}: context {name!r} names user {ctx.user!r}, "
                               "which is not defined")
        user = found
    if user.auth_provider:
        raise ClusterError(f"{origin}: user {ctx.user!r} uses an auth-provider, which kubectl "
                           "no longer supports either: use an exec credential plugin")
    if "://" not in cluster.server:  # client-go reads `host:port` as an HTTPS address
        cluster = msgspec.structs.replace(cluster, server=f"https://{cluster.server}")
    single = SingleConfig(context_name=name, context=ctx, cluster=cluster, user=user)
    return Target(single, name, cluster.server, origin)


def _in_cluster(env: Mapping[str, str], context: str | None) -> Target:
    from lightkube.config.kubeconfig import SingleConfig
    from lightkube.config.models import Cluster, Context, User

    if context:
        raise ClusterError(f"--context {context}: there is no kubeconfig, only the in-cluster "
                           "service account")
    host = env["KUBERNETES_SERVICE_HOST"]
    port = env.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    account = Path(SERVICE_ACCOUNT_DIR)
    cluster = Cluster(server=f"https://{host}:{port}",
                      certificate_auth=str(account / "ca.crt"))
    # The kubelet rotates the token: lightkube re-reads the file when the server answers 401.
    user = User(token_file=str(account / "token"))
    ctx = Context(cluster="in-cluster", user="service-account")
    single = SingleConfig(context_name="in-cluster", context=ctx, cluster=cluster, user=user)
    return Target(single, "in-cluster", cluster.server, "in-cluster service account")
