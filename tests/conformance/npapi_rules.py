"""Rule builders for the network-policy-api conformance cases (tests/conformance/test_npapi_*):
each returns the YAML flow mapping of one ClusterNetworkPolicy rule, peer or protocol list, as
upstream's manifests spell them."""

from __future__ import annotations

from tests.conformance.npapi import cnp, house_selector, pod

G, S, H, R = "gryffindor", "slytherin", "hufflepuff", "ravenclaw"


def from_house(action: str, house: str, name: str, protocols: str = "") -> str:
    extra = f", protocols: {protocols}" if protocols else ""
    return (f"{{name: {name}, action: {action}, from: [{{namespaces: {house_selector(house)}}}]"
            f"{extra}}}")


def to_house(action: str, house: str, name: str, protocols: str = "") -> str:
    extra = f", protocols: {protocols}" if protocols else ""
    return (f"{{name: {name}, action: {action}, to: [{{namespaces: {house_selector(house)}}}]"
            f"{extra}}}")


TCP80 = "[{tcp: {destinationPort: {number: 80}}}]"


def swapped(rules: list[str], i: int, j: int) -> list[str]:
    out = list(rules)
    out[i], out[j] = out[j], out[i]
    return out


HOUSE_PODS = "{{pods: {{namespaceSelector: {{matchLabels: {{conformance-house: {0}}}}}, " \
             "podSelector: {{matchLabels: {{conformance-house: {0}}}}}}}}}"


def every_protocol(client: str, server: str, allowed: bool) -> list[tuple[str, str, str, bool]]:
    return [(client, server, p, allowed) for p in ("TCP/80", "UDP/53", "SCTP/9003")]


def port_range(protocol: str, start: int, end: int) -> str:
    return f"[{{{protocol}: {{destinationPort: {{range: {{start: {start}, end: {end}}}}}}}}}]"


def pod_named(house: str, replica: int) -> str:
    return (f"{{pods: {{namespaceSelector: {{matchLabels: {{conformance-house: {house}}}}}, "
            f"podSelector: {{matchLabels: {{statefulset.kubernetes.io/pod-name: "
            f"{pod(house, replica).split('/')[1]}}}}}}}}}")


def house_pods(house: str) -> str:
    return f"{{pods: {{podSelector: {{matchLabels: {{conformance-house: {house}}}}}}}}}"


def number(protocol: str, port: int) -> str:
    return f"{{{protocol.lower()}: {{destinationPort: {{number: {port}}}}}}}"


def three_houses(direction: str, tier: str, a: str, b: str, c: str, at_b: str,
                 at_c: str) -> list[str]:
    """The shape of every CNP{Admin,Baseline}Tier{Ingress,Egress}{TCP,UDP,SCTP} manifest (and of
    the gress ones): rules for house A (Accept, Deny[, Pass] everything), house B (Deny[, Pass]
    at `at_b`) and house C (Accept at `at_c`, Deny the rest); the Baseline tier has no Pass."""
    rule, word = (from_house, "from") if direction == "ingress" else (to_house, "to")
    out = [rule("Accept", a, f"allow-{word}-{a}-everything"),
           rule("Deny", a, f"deny-{word}-{a}-everything")]
    if tier == "Admin":
        out.append(rule("Pass", a, f"pass-{word}-{a}-everything"))
    out.append(rule("Deny", b, f"deny-{word}-{b}-at-port", at_b))
    if tier == "Admin":
        out.append(rule("Pass", b, f"pass-{word}-{b}-at-port", at_b))
    out += [rule("Accept", c, f"allow-{word}-{c}-at-port", at_c),
            rule("Deny", c, f"deny-{word}-{c}-everything-else")]
    return out


def one_direction(name: str, tier: str, priority: int, subject: str, direction: str,
                  rules: list[str]) -> str:
    return cnp(name, tier, priority, f"{{namespaces: {house_selector(subject)}}}",
               **{direction: rules})


def named(port: str) -> str:
    return f"[{{destinationNamedPort: {port}}}]"


def port_range_policy(tier: str) -> str:
    """CNP{Admin,Baseline}TierPortRange's policy: gryffindor accepts a port range per protocol
    from and to one house each (ravenclaw TCP 80-8080, hufflepuff UDP 53-5353, slytherin SCTP
    9003-9005), and denies every other house."""
    ranges = [(R, "tcp", 80, 8080), (H, "udp", 53, 5353), (S, "sctp", 9003, 9005)]
    houses = "{namespaces: {matchExpressions: [{key: conformance-house, operator: Exists}]}}"
    return cnp(
        "port-range-rules", tier, 9 if tier == "Admin" else 10,
        f"{{namespaces: {house_selector(G)}}}",
        ingress=[*(from_house("Accept", h, f"allow-from-{h}-{p}-port-range",
                              port_range(p, lo, hi)) for h, p, lo, hi in ranges),
                 f"{{name: deny-all-ingress, action: Deny, from: [{houses}]}}"],
        egress=[*(to_house("Accept", h, f"allow-to-{h}-{p}-port-range", port_range(p, lo, hi))
                  for h, p, lo, hi in ranges),
                f"{{name: deny-all-egress, action: Deny, to: [{houses}]}}"])
