"""Pods and workloads (Deployment, StatefulSet, ..., CronJob) -> Endpoint.

A workload is read as the pods it makes: its pod template's labels and ports. A live object
also says who owns it, its phase or replicas and whether it has a status, which the snapshot
uses to keep each app once. Two readers build the same Endpoint: `read_endpoint` reports every
problem; `fast_endpoint` reads the common, plain, valid object without a path or a message
and gives up otherwise (see convert._fast and tests/manifests/test_fast_path.py).
"""

from __future__ import annotations

from typing import Any

from podwall.manifests import fields, syntax
from podwall.manifests.documents import Document
from podwall.manifests.labels import NO_LABELS, fast_labels, read_labels
from podwall.manifests.located import Located
from podwall.manifests.metadata import (
    META_LABELS,
    META_NAME,
    document_source,
    fast_metadata,
    object_source,
    read_annotations,
    read_metadata,
)
from podwall.manifests.ports import fast_ports, read_pod_ports
from podwall.manifests.report import EMPTY, Ctx, Path
from podwall.model import ContainerPort, Endpoint, IPAddress, Labels

_SPEC: Path = (None, "spec")
_STATUS: Path = (None, "status")


def read_endpoint(ctx: Ctx, kind: str, default_namespace: str) -> Endpoint | None:
    data = ctx.data
    name, namespace, meta = read_metadata(ctx, kind, True, default_namespace,
                                          syntax.dns1123_subdomain)
    if kind == "CronJob" and name is not None and len(name) > 52:
        ctx.invalid(META_NAME, name, "must be no more than 52 characters")
    labels = read_labels(ctx, meta.get("labels"), META_LABELS)
    read_annotations(ctx, meta)
    ctx.unknown_fields(data, fields.OBJECT, None,
                       ("spec", fields.POD_SPEC if kind == "Pod" else fields.WORKLOAD_SPEC[kind]))
    ip: IPAddress | None = None
    if kind == "Pod":
        ports = read_pod_ports(ctx, data.get("spec"), _SPEC)
        raw_status = data.get("status")
        if raw_status is not None:
            ip = _pod_ip(ctx, raw_status)
    else:
        labels, ports = _template(ctx, kind)
    if ctx.errors or name is None or labels is None or ports is None:
        return None
    owners, phase, replicas, live = _live_fields(kind, data, meta)
    return Endpoint(namespace, name, labels, ports, ip, kind, False, object_source(ctx), owners, phase,
                    replicas, live)


def _template(ctx: Ctx, kind: str) -> tuple[Labels | None, tuple[ContainerPort, ...] | None]:
    """The pod template of a workload: its labels and its containers' ports."""
    before = ctx.errors
    spec = ctx.mapping(ctx.data.get("spec"), _SPEC) or EMPTY
    levels = [(spec, fields.WORKLOAD_SPEC[kind], _SPEC)]
    if kind == "CronJob":
        job_path = (_SPEC, "jobTemplate")
        job = ctx.mapping(spec.get("jobTemplate"), job_path) or EMPTY
        job_spec_path = (job_path, "spec")
        job_spec = ctx.mapping(job.get("spec"), job_spec_path) or EMPTY
        levels += [(job, fields.POD_TEMPLATE, job_path), (job_spec, fields.JOB_SPEC, job_spec_path)]
        template_path = (job_spec_path, "template")
        raw = job_spec.get("template")
    else:
        template_path = (_SPEC, "template")
        raw = spec.get("template")
    if ctx.errors != before:  # a wrong type on the way there, already reported
        return None, None
    for mapping, allowed, level_path in levels:
        ctx.unknown_fields(mapping, allowed, level_path)
    if raw is None:
        ctx.required(template_path)
        return None, None
    template = ctx.mapping(raw, template_path)
    if template is None:
        return None, None
    ctx.unknown_fields(template, fields.POD_TEMPLATE, template_path)
    meta_path = (template_path, "metadata")
    meta = ctx.mapping(template.get("metadata"), meta_path) or EMPTY
    ctx.unknown_fields(meta, fields.OBJECT_META, meta_path)
    labels = read_labels(ctx, meta.get("labels"), (meta_path, "labels"))
    ports = read_pod_ports(ctx, template.get("spec"), (template_path, "spec"))
    return labels, ports


_POD_IP: Path = (_STATUS, "podIP")


def _pod_ip(ctx: Ctx, value: Any) -> IPAddress | None:
    status = ctx.mapping(value, _STATUS)
    if not status:
        return None
    ctx.unknown_fields(status, fields.POD_STATUS, _STATUS)
    text = ctx.string(status.get("podIP"), _POD_IP)
    if not text:
        return None
    ip = syntax.parse_ip(text)
    if ip is None:
        ctx.invalid(_POD_IP, text, syntax.INVALID_IP)
    return ip


_NOT_LIVE: tuple[tuple[tuple[str, str], ...], str | None, int | None, bool] = ((), None, None, False)


def _live_fields(kind: str, data: dict[str, Any], meta: Any
                 ) -> tuple[tuple[tuple[str, str], ...], str | None, int | None, bool]:
    """What a live object says about itself (model.snapshot decides with it): its owners, a
    Pod's phase ("" with a status but no phase, None without a status), a controller's
    replicas and whether it has a status. Read leniently and identically by both paths: these
    fields are the server's, not the user's, and a value of an unexpected shape only means the
    rule cannot use it."""
    refs = meta.get("ownerReferences") if isinstance(meta, dict) else None
    status = data.get("status")
    if not refs and not status and kind == "Pod":
        return _NOT_LIVE
    owners: tuple[tuple[str, str], ...] = ()
    if isinstance(refs, list) and refs:
        owners = tuple((ref["kind"], ref["name"]) for ref in refs
                       if isinstance(ref, dict) and isinstance(ref.get("kind"), str)
                       and isinstance(ref.get("name"), str))
    has_status = isinstance(status, dict) and bool(status)
    if kind == "Pod":
        phase = status.get("phase") if has_status else None  # type: ignore[union-attr]
        return owners, (phase if isinstance(phase, str) else "") if has_status else None, \
            None, False
    spec = data.get("spec")
    replicas = spec.get("replicas") if isinstance(spec, dict) else None
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        replicas = None
    return owners, None, replicas, has_status


class NotPlain(Exception):
    """Raised inside the quick path where returning None would be ambiguous."""


def _fast_pod_ip(status: Any) -> IPAddress | None:
    """status.podIP of a valid status (None when there is none); NotPlain otherwise."""
    if status is None:
        return None
    if (type(status) is not dict and type(status) is not Located) or not status.keys() <= fields.POD_STATUS:
        raise NotPlain
    text = status.get("podIP")
    if text is None or text == "":
        return None
    if type(text) is not str:
        raise NotPlain
    ip = syntax.parse_ip(text)
    if ip is None:
        raise NotPlain
    return ip


def fast_endpoint(doc: Document, data: dict[str, Any], kind: str,
                  default_namespace: str) -> Endpoint | None:
    """A valid, plain Pod or workload, or None (the reporting path then reads it)."""
    if not data.keys() <= fields.OBJECT:
        return None
    meta: Any = data.get("metadata")
    named = fast_metadata(meta, True, default_namespace, syntax.is_dns1123_subdomain)
    if named is None:
        return None
    name, namespace = named
    if kind == "CronJob" and len(name) > 52:
        return None
    labels = fast_labels(meta.get("labels"))  # validated for every kind, used for Pods
    if labels is None:
        return None
    ip: IPAddress | None = None
    if kind == "Pod":
        ports = fast_ports(data.get("spec"))
        ip = _fast_pod_ip(data.get("status"))
    else:
        spec = data.get("spec")
        if ((type(spec) is not dict and type(spec) is not Located)
                or not spec.keys() <= fields.WORKLOAD_SPEC[kind]):
            return None
        if kind == "CronJob":
            job = spec.get("jobTemplate")
            if ((type(job) is not dict and type(job) is not Located)
                    or not job.keys() <= fields.POD_TEMPLATE):
                return None
            spec = job.get("spec")
            if ((type(spec) is not dict and type(spec) is not Located)
                    or not spec.keys() <= fields.JOB_SPEC):
                return None
        template = spec.get("template")
        if ((type(template) is not dict and type(template) is not Located)
                or not template.keys() <= fields.POD_TEMPLATE):
            return None
        template_meta = template.get("metadata")
        if template_meta is None:
            labels = NO_LABELS
        elif ((type(template_meta) is not dict and type(template_meta) is not Located)
              or not template_meta.keys() <= fields.OBJECT_META):
            return None
        else:
            labels = fast_labels(template_meta.get("labels"))
        ports = fast_ports(template.get("spec"))
    if labels is None or ports is None:
        return None
    owners, phase, replicas, live = _live_fields(kind, data, meta)
    return Endpoint(namespace, name, labels, ports, ip, kind, False, document_source(doc), owners,
                    phase, replicas, live)
