"""The labs on this machine (`lab list`): from the state root, and from node namespaces whose
state is gone (a crash that `lab down --name NAME` cleans up)."""

from __future__ import annotations

import re
from typing import Any

from podwall.errors import PodwallError
from podwall.lab import topology as topo
from podwall.lab.lab import LAB_NAME, Lab, state_root


def labs() -> list[dict[str, Any]]:
    """Every lab under the state root, and every lab whose node namespace is left without state
    (a crash): name, status, counts, node."""
    found: dict[str, dict[str, Any]] = {}
    root = state_root()
    names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    for name in names:
        if not LAB_NAME.fullmatch(name):
            continue
        lab = Lab(name)
        try:
            state = lab.load_state()
            cluster = lab.cluster()
        except PodwallError as exc:
            found[name] = {"name": name, "status": "damaged", "pods": 0, "services": 0,
                           "policies": 0, "node": lab.node, "problem": str(exc)}
            continue
        status = "up" if lab.node in topo.netns_list() else "broken"
        found[name] = {"name": name, "status": status, "pods": len(state["pods"]),
                       "services": len(cluster.services), "policies": len(cluster.policies),
                       "node": lab.node, "sources": state.get("sources", [])}
    for netns in topo.netns_list():
        match = re.fullmatch(r"pw-([a-z0-9][a-z0-9-]{0,31})-node", netns)
        if match and match.group(1) not in found:
            found[match.group(1)] = {"name": match.group(1), "status": "no state (lab down "
                                     "removes it)", "pods": 0, "services": 0, "policies": 0,
                                     "node": netns}
    return [found[name] for name in sorted(found)]
