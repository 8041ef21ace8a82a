"""The port dispatch of a selection chain: disjoint port segments that admit exactly what the
union of the rules admits (podwall.dataplane.dispatch)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.dataplane.dispatch import (
    Box,
    Peers,
    Segment,
    admit_groups,
    named_resolution,
    port_segments,
)
from podwall.model import ContainerPort, Direction, Endpoint, NetworkPolicy, Protocol, Rule
from podwall.model.labels import Labels, LabelSelector
from podwall.model.ports import PolicyPort

PROTOCOLS = (Protocol.TCP, Protocol.UDP)
# A small space (ports 0..40, addresses 0..40, both versions) so collisions are common.
ports = st.integers(0, 40)
intervals = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6)).map(
    lambda t: (t[0], t[0] + t[1])), max_size=3)


@st.composite
def boxes(draw: st.DrawFn) -> Box:
    low = draw(ports)
    high = low + draw(st.integers(0, 8))
    peers: Peers = None if draw(st.booleans()) and draw(st.booleans()) else (
        tuple(draw(intervals)), tuple(draw(intervals)))
    return Box(draw(st.sampled_from(PROTOCOLS)), low, high, peers, f"r{draw(st.integers(0, 3))}")


def inside(peers: Peers, version: int, address: int) -> bool:
    if peers is None:
        return True
    return any(low <= address <= high for low, high in peers[0 if version == 4 else 1])


@settings(max_examples=300, deadline=None)
@given(st.lists(boxes(), max_size=6))
def test_segments_admit_exactly_what_some_box_admits(drawn: list[Box]) -> None:
    segments = port_segments(drawn)
    for protocol, found in segments.items():
        # disjoint, sorted, never empty, neighbours with equal peers joined
        assert all(a.high < b.low for a, b in pairwise(found))
        assert all(not (a.high + 1 == b.low and set(a.parts) == set(b.parts))
                   for a, b in pairwise(found))
        assert all(len(set(s.parts)) == len(s.parts) for s in found)
        assert all(s.peers is None or s.peers[0] or s.peers[1] for s in found)
        assert protocol in {b.protocol for b in drawn}
    for protocol in PROTOCOLS:
        for port in range(0, 50):
            hits = [s for s in segments.get(protocol, []) if s.low <= port <= s.high]
            assert len(hits) <= 1
            segment: Segment | None = hits[0] if hits else None
            covering = [b for b in drawn if b.protocol is protocol and b.low <= port <= b.high]
            for version in (4, 6):
                for address in range(0, 50):
                    expected = any(inside(b.peers, version, address) for b in covering)
                    got = segment is not None and inside(segment.peers, version, address)
                    assert got == expected, (protocol, port, version, address)
            if segment is not None:  # it names the rules that admit something on its ports
                overlapping = [b for b in drawn if b.protocol is protocol
                               and b.low <= segment.high and segment.low <= b.high]
                assert set(segment.rules) <= {b.rule for b in overlapping}
                assert set(segment.rules) >= {b.rule for b in covering
                                              if b.peers is None or b.peers[0] or b.peers[1]}


def test_a_range_cut_by_a_single_port_keeps_both_sides() -> None:
    wide = Box(Protocol.TCP, 8000, 8100, (((1, 1),), ()), "wide")
    one = Box(Protocol.TCP, 8080, 8080, (((2, 2),), ()), "one")
    found = port_segments([wide, one])[Protocol.TCP]
    assert [(s.low, s.high, s.parts, s.rules) for s in found] == [
        (8000, 8079, ((((1, 1),), ()),), ("wide",)),
        (8080, 8080, ((((1, 1),), ()), (((2, 2),), ())), ("one", "wide")),
        (8081, 8100, ((((1, 1),), ()),), ("wide",)),
    ]
    assert found[1].peers == (((1, 2),), ())  # their union: touching addresses merge
    # an admit chain looks up a small union once, large peers as they are (shared sets)
    assert admit_groups(found[1].parts) == ((((1, 2),), ()),)
    large: tuple[Peers, ...] = tuple(
        (tuple((i * 4 + k, i * 4 + k) for i in range(40)), ()) for k in (0, 1))
    assert admit_groups(large) == large
    # every peer on a port absorbs the others there
    anyone = Box(Protocol.TCP, 8080, 8080, None, "anyone")
    assert port_segments([wide, anyone])[Protocol.TCP][1].parts == (None,)
    # a rule whose peers match no address adds nothing
    assert port_segments([Box(Protocol.UDP, 53, 53, ((), ()), "nobody")]) == {}


def test_pods_resolve_the_ingress_named_ports_of_their_policies() -> None:
    policy = NetworkPolicy(
        "a", "web", LabelSelector(), frozenset({Direction.INGRESS}),
        ingress=(Rule(ports=(PolicyPort(Protocol.TCP, "http"), PolicyPort(Protocol.UDP, "dns"),
                             PolicyPort(Protocol.TCP, 80))),))
    web = Endpoint("a", "web", Labels({}), ports=(ContainerPort(8080, Protocol.TCP, "http"),
                                      ContainerPort(53, Protocol.TCP, "dns")))
    assert named_resolution(web, [policy], Direction.INGRESS) == (
        ("TCP", "http", (8080,)), ("UDP", "dns", ()))  # dns is TCP on this pod: no UDP number
    assert named_resolution(web, [policy], Direction.EGRESS) == ()
