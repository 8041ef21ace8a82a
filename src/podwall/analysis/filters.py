"""What a command SHOWS: `-n NS`, `--focus EP`, `--from SEL`, `--to SEL` (one place for every verb).

A `View` never changes what is evaluated: policies in every namespace still decide every
verdict; the view only picks which answers are printed.

- `-n NS` (when given explicitly) and `--focus EP` pick the *subjects*: endpoints in NS, the
  endpoint EP. A pair (from, to) is shown when either end is a subject (so `-n shop` shows what
  shop reaches and what reaches shop, as kubectl's `-n` shows shop's objects).
- `--from SEL` / `--to SEL` are label selectors with kubectl's `-l` syntax
  (`app=web,tier!=db,env in (a,b),!canary`) on the source / destination end of a pair. Hosts
  outside the cluster have no labels: a selector never matches them.

Options combine with AND. Every predicate is constant over an endpoint class (a class is one
namespace and one label set) except `--focus`, so views split classes only for the focus
endpoint: `view_classes` gives renderers classes that are uniform under the view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from podwall.engine import Matrix, Target, selector_matches
from podwall.engine.classes import BoolArray, IntArray
from podwall.errors import QueryError
from podwall.model import Cluster, Endpoint, LabelSelector, Operator, Port, Requirement

# Above this many endpoints in view, text outputs summarise (see `View.summarise`).
SUMMARY_THRESHOLD = 50

_KEY = re.compile(r"^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?"
                  r"[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$")
_VALUE = re.compile(r"^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$")
_SET = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")


def parse_selector(text: str) -> LabelSelector:
    """kubectl's `-l` syntax into a LabelSelector; ValueError names the bad requirement.

    `k=v`, `k==v`, `k!=v` (also matches objects without k), `k in (a,b)`, `k notin (a,b)`,
    `k` (has the key), `!k` (lacks it); requirements separated by commas outside parentheses.
    """
    if not text.strip():
        raise ValueError("empty selector")
    labels: dict[str, str] = {}
    expressions: list[Requirement] = []
    for part in _split(text):
        req = part.strip()
        match = _SET.match(req)
        if match:
            values = tuple(sorted(v.strip() for v in match["values"].split(",") if v.strip()))
            if not values:
                raise ValueError(f"{req!r}: a set needs at least one value")
            for v in values:
                _check(_VALUE, v, "value", req)
            _check(_KEY, match["key"], "key", req)
            op = Operator.IN if match["op"] == "in" else Operator.NOT_IN
            expressions.append(Requirement(match["key"], op, values))
        elif "!=" in req:
            key, value = (s.strip() for s in req.split("!=", 1))
            _check(_KEY, key, "key", req)
            _check(_VALUE, value, "value", req)
            expressions.append(Requirement(key, Operator.NOT_IN, (value,)))
        elif "=" in req:
            key, value = (s.strip() for s in re.split("==?", req, maxsplit=1))
            _check(_KEY, key, "key", req)
            _check(_VALUE, value, "value", req)
            if labels.get(key, value) != value:
                raise ValueError(f"{key!r} cannot equal both {labels[key]!r} and {value!r}")
            labels[key] = value
        elif req.startswith("!"):
            key = req[1:].strip()
            _check(_KEY, key, "key", req)
            expressions.append(Requirement(key, Operator.DOES_NOT_EXIST))
        else:
            _check(_KEY, req, "key", req)
            expressions.append(Requirement(req, Operator.EXISTS))
    return LabelSelector.of(labels, tuple(expressions))


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in {text!r}")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '(' in {text!r}")
    parts.append(text[start:])
    for p in parts:
        if not p.strip():
            raise ValueError(f"empty requirement in {text!r}")
    return parts


def _check(pattern: re.Pattern[str], text: str, what: str, req: str) -> None:
    if not text and what == "key":
        raise ValueError(f"{req!r}: missing label key")
    if not pattern.match(text):
        raise ValueError(f"{req!r}: {text!r} is not a valid label {what}")


@dataclass(frozen=True, slots=True)
class Anonymous:
    """A matrix endpoint known by name only (enough for the default view)."""

    key: str


Named = Target | Anonymous


@dataclass(frozen=True, slots=True)
class View:
    """Which answers to show. The default view shows everything."""

    namespace: str | None = None  # -n NS, only when given explicitly
    focus: str | None = None  # --focus ns/name
    sources: LabelSelector | None = None  # --from SEL
    destinations: LabelSelector | None = None  # --to SEL
    full: bool = False  # --full: never summarise
    members: tuple[str, ...] = ()  # the pods a focus on a snapshot's controller stands for

    @property
    def focus_keys(self) -> frozenset[str]:
        """The endpoints the focus names: itself, or a controller's running pods."""
        if self.focus is None:
            return frozenset()
        return frozenset(self.members) if self.members else frozenset((self.focus,))

    def resolved(self, *clusters: Cluster) -> View:
        """With a focus that names a controller of a snapshot (not an endpoint: its running
        pods are), the view focused on those pods; otherwise itself."""
        if self.focus is None or any(c.endpoint(self.focus) is not None for c in clusters):
            return self
        from podwall.engine.groups import service_name

        service = service_name(self.focus, self.namespace)
        if service is not None:
            found = [s for c in clusters if (s := c.service(service)) is not None]
            if not found:
                raise QueryError(f"--focus: no Service {service!r} in the input")
            keys = sorted({ep.key for c in clusters for s in found for ep in c.backends(s)})
            if not keys:
                raise QueryError(f"--focus: {self.focus} selects no pod in the input")
            return replace(self, members=tuple(keys))
        keys = sorted({ep.key for c in clusters for ep in c.members(self.focus)})
        controller = next((c.controller(self.focus) for c in clusters
                           if c.controller(self.focus) is not None), None)
        if controller is None:
            return self
        if not keys:
            raise QueryError(f"--focus: {self.focus} ({controller.kind}) has no running pod in "
                             "the input")
        return replace(self, members=tuple(keys))

    @property
    def active(self) -> bool:
        return any(x is not None for x in (self.namespace, self.focus, self.sources,
                                            self.destinations))

    def flags(self) -> str:
        """The view as command-line options (for hints that drill further down)."""
        out = []
        if self.namespace is not None:
            out.append(f"-n {self.namespace}")
        if self.focus is not None:
            out.append(f"--focus {self.focus}")
        if self.sources is not None:
            out.append(f"--from '{self.sources}'")
        if self.destinations is not None:
            out.append(f"--to '{self.destinations}'")
        return " ".join(out)

    def check(self, endpoints: Sequence[Endpoint]) -> None:
        """A focus must name an endpoint of the input (QueryError, with nearby names)."""
        if self.focus is None or self.members:
            return
        if not any(ep.key == self.focus for ep in endpoints):
            ns = self.focus.split("/", 1)[0]
            near = [ep.key for ep in endpoints if ep.namespace == ns][:8]
            hint = f" (endpoints in {ns}: {', '.join(near)})" if near else ""
            raise QueryError(f"--focus: no endpoint {self.focus!r} in the input{hint}")

    # -- pictures and findings ---------------------------------------------------------------
    def restrict(self, cluster: Cluster) -> Cluster:
        """The cluster with only the endpoints in view (and the focus), every policy and
        namespace kept: a verdict between two endpoints depends on them, the policies and the
        namespaces only, so what remains is evaluated exactly as before. For pictures."""
        if self.namespace is None and self.sources is None and self.destinations is None:
            return cluster
        rest = View(self.namespace, None, self.sources, self.destinations)
        focus = self.focus_keys
        kept = tuple(ep for ep in cluster.endpoints
                     if ep.key in focus or rest.shows_endpoint(ep))
        return replace(cluster, endpoints=kept)

    def shows_object(self, obj: str, cluster: Cluster) -> bool:
        """Whether a finding about `obj` ("Kind ns/name" or "Namespace ns") is in view: its
        namespace is -n's, and with --focus/--from/--to, it concerns an endpoint in view (a
        policy selecting one, a namespace holding one, the endpoint itself)."""
        kind, _, name = obj.partition(" ")
        namespace = name if kind == "Namespace" else name.partition("/")[0]
        if self.namespace is not None and namespace != self.namespace:
            return False
        if self.focus is None and self.sources is None and self.destinations is None:
            return True
        in_view = [ep for ep in cluster.endpoints if ep.namespace == namespace
                   and self.shows_endpoint(ep)]
        if kind == "Namespace":
            return bool(in_view)
        if kind == "NetworkPolicy":
            policy = next((p for p in cluster.policies if p.key == name), None)
            return policy is not None and any(
                selector_matches(policy.pod_selector, ep.labels) for ep in in_view)
        return any(ep.key == name for ep in in_view)

    # -- per endpoint ------------------------------------------------------------------------
    def is_subject(self, target: Named) -> bool:
        if self.focus is not None and target.key not in self.focus_keys:
            return False
        if self.namespace is not None:
            return isinstance(target, Endpoint) and target.namespace == self.namespace
        return True

    def is_source(self, target: Named) -> bool:
        return self.sources is None or (isinstance(target, Endpoint)
                                        and selector_matches(self.sources, target.labels))

    def is_destination(self, target: Named) -> bool:
        return self.destinations is None or (
            isinstance(target, Endpoint) and selector_matches(self.destinations, target.labels))

    def shows_pair(self, src: Named, dst: Named) -> bool:
        return ((self.is_subject(src) or self.is_subject(dst))
                and self.is_source(src) and self.is_destination(dst))

    def shows_endpoint(self, target: Named) -> bool:
        """An endpoint is in view when it is a subject at an end the view lets it be."""
        return self.is_subject(target) and (self.is_source(target)
                                            or self.is_destination(target))


@dataclass(frozen=True, slots=True)
class ViewClasses:
    """Classes refined so that every view predicate is constant over each of them.

    `of[i]` is endpoint i's view class; per view class: `rep` (one member), `size`, `base` (the
    matrix class), and the masks `subject`, `source`, `destination`.
    """

    of: IntArray
    rep: IntArray
    size: IntArray
    base: IntArray
    subject: BoolArray
    source: BoolArray
    destination: BoolArray

    @property
    def count(self) -> int:
        return len(self.rep)

    @property
    def shown(self) -> BoolArray:
        """View classes in view (see `View.shows_endpoint`)."""
        result: BoolArray = self.subject & (self.source | self.destination)
        return result


def view_classes(view: View, targets: Sequence[Named],
                 class_of: IntArray) -> ViewClasses:
    """Split matrix classes by the view (only the focus endpoint can leave its class)."""
    key = class_of.astype(np.int64) * 2
    if view.focus is not None:
        focus = view.focus_keys
        for i, t in enumerate(targets):
            if t.key in focus:
                key[i] += 1
    _, rep, of, size = np.unique(key, return_index=True, return_inverse=True,
                                 return_counts=True)
    rep = rep.astype(np.int64)
    members = [targets[int(r)] for r in rep]
    if not view.active:
        everywhere = np.ones(len(rep), dtype=np.bool_)
        return ViewClasses(of.reshape(-1).astype(np.int64), rep, size.astype(np.int64),
                           class_of[rep].astype(np.int64), everywhere, everywhere, everywhere)
    return ViewClasses(
        of.reshape(-1).astype(np.int64), rep, size.astype(np.int64),
        class_of[rep].astype(np.int64),
        np.array([view.is_subject(t) for t in members], dtype=np.bool_),
        np.array([view.is_source(t) for t in members], dtype=np.bool_),
        np.array([view.is_destination(t) for t in members], dtype=np.bool_))


class MatrixView:
    """A matrix seen through a view: which rows and columns are shown, and class-level blocks.

    Rows are endpoints that are the source of some shown pair, columns the destinations of some
    shown pair. Everything is per view class; `block` walks the class matrix in row blocks.
    """

    def __init__(self, matrix: Matrix, targets: Sequence[Named] | None = None,
                 view: View | None = None) -> None:
        """`targets` (the matrix's endpoints, then outside hosts) may be left out only with the
        default view, which needs no labels."""
        view = view if view is not None else View()
        if targets is None:
            if view.active:
                raise ValueError("a view with filters needs the matrix's targets")
            targets = [Anonymous(name) for name in matrix.endpoints]
        self.matrix = matrix
        self.view = view
        # components every cluster has that the input did not carry: labelled so
        self.implied = frozenset(i for i, t in enumerate(targets)
                                 if isinstance(t, Endpoint) and t.implied)
        self.classes = vc = view_classes(view, targets, matrix.class_of)
        x, f, t = vc.subject, vc.source, vc.destination
        # a row has some shown pair: it is a subject and some destination is in view, or some
        # subject is a destination in view (columns likewise)
        self.row_class = f & ((x & bool(t.any())) | bool((x & t).any()))  # per view class
        self.col_class = t & ((x & bool(f.any())) | bool((x & f).any()))
        self.row_ok: BoolArray = self.row_class[vc.of]
        self.col_ok: BoolArray = self.col_class[vc.of]
        self.rows: IntArray = np.flatnonzero(self.row_ok).astype(np.int64)
        self.cols: IntArray = np.flatnonzero(self.col_ok).astype(np.int64)
        self.in_view: IntArray = np.flatnonzero(self.row_ok | self.col_ok).astype(np.int64)

    def shown_diagonal(self) -> BoolArray:
        """Per view class: is an endpoint's pair with itself shown."""
        vc = self.classes
        result: BoolArray = vc.source & vc.destination & vc.subject
        return result

    def shown(self, vs: IntArray) -> BoolArray:
        """shown[s, d] over view classes `vs` x all view classes."""
        return self.shown_between(vs, np.arange(self.classes.count, dtype=np.int64))

    def shown_between(self, srcs: IntArray, dsts: IntArray) -> BoolArray:
        """shown[s, d] over view classes `srcs` x `dsts`."""
        vc = self.classes
        result: BoolArray = (vc.source[srcs, None] & vc.destination[None, dsts]
                             & (vc.subject[srcs, None] | vc.subject[None, dsts]))
        return result

    def allowed(self, port: Port, vs: IntArray) -> BoolArray:
        """Class-level verdicts over view classes `vs` x all view classes (the diagonal of the
        endpoint matrix is not in it: an endpoint may always reach itself)."""
        return self.matrix.verdicts[port].block(self.classes.base[vs], self.classes.base)

    def blocks(self, cells: int = 1 << 22) -> list[IntArray]:
        """View classes in row blocks of about `cells` cells."""
        count = self.classes.count
        step = max(1, cells // max(count, 1))
        return [np.arange(a, min(a + step, count), dtype=np.int64) for a in range(0, count, step)]

    def pair_counts(self, ports: Sequence[Port], group: IntArray, groups: int
                    ) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.int64]]:
        """Per port, allowed pairs of distinct endpoints between groups of view classes; and
        the pairs in view (the same for every port).

        `group[v]` is view class v's group (e.g. its namespace). Exact: a class with itself has
        size x (size - 1) pairs. Per row block: (block x V) @ (V x G) in float32 (BLAS; exact,
        as no sum exceeds the number of endpoints), scaled per row in float64.
        """
        vc = self.classes
        columns = np.zeros((vc.count, groups), dtype=np.float32)
        columns[np.arange(vc.count), group] = vc.size
        allowed = [np.zeros((groups, groups), dtype=np.float64) for _ in ports]
        shown = np.zeros((groups, groups), dtype=np.float64)
        everything = not self.view.active

        def add(into: npt.NDArray[np.float64], cells: BoolArray, vs: IntArray) -> None:
            own = np.arange(len(vs))
            per_row = (cells.astype(np.float32) @ columns).astype(np.float64)
            per_row[own, group[vs]] -= cells[own, vs]  # per member: not itself
            np.add.at(into, group[vs], per_row * vc.size[vs, None])

        for vs in self.blocks():
            mask = None if everything else self.shown(vs)
            add(shown, mask if mask is not None else np.ones((len(vs), vc.count), np.bool_), vs)
            for k, port in enumerate(ports):
                ok = self.allowed(port, vs)
                add(allowed[k], ok if mask is None else ok & mask, vs)
        return ([np.rint(a).astype(np.int64) for a in allowed],
                np.rint(shown).astype(np.int64))
