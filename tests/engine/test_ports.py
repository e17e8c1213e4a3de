"""Connection sets: the algebra's laws (hypothesis), the text form, and parse errors."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine.ports import (
    MAX_PORT,
    MIN_PORT,
    PROTOCOLS,
    ConnectionSet,
    parse_connection_set,
)

# Derandomized: CI sees the same examples every run (the example database is not kept).
LAWS = settings(max_examples=300, deadline=None, derandomize=True)

# Ports cluster around a few values so that random intervals overlap, touch and nest;
# the edges 1 and 65535 are drawn often because off-by-one bugs live there.
_port = st.one_of(
    st.sampled_from([MIN_PORT, 2, 79, 80, 81, 443, 1024, 65534, MAX_PORT]),
    st.integers(1, 200),
    st.integers(MIN_PORT, MAX_PORT),
)


@st.composite
def _interval(draw: st.DrawFn) -> tuple[int, int]:
    a, b = draw(_port), draw(_port)
    return (min(a, b), max(a, b))


connection_sets = st.one_of(
    st.just(ConnectionSet.all()),
    st.just(ConnectionSet.none()),
    st.sampled_from(PROTOCOLS).map(ConnectionSet.whole),
    st.dictionaries(st.sampled_from(PROTOCOLS), st.lists(_interval(), max_size=5)).map(
        ConnectionSet.from_intervals
    ),
)


def _probes(*sets: ConnectionSet) -> list[tuple[str, int]]:
    """Every (protocol, port) where membership in any of ``sets`` can change, and its neighbours.

    Membership is constant between consecutive probes, so agreeing on all probes means
    agreeing on all 3 x 65535 connections.
    """
    found = {(p, q) for p in PROTOCOLS for q in (MIN_PORT, MAX_PORT)}
    for s in sets:
        for protocol, lo, hi in s:
            for q in (lo - 1, lo, hi, hi + 1):
                if MIN_PORT <= q <= MAX_PORT:
                    found.add((protocol, q))
    return sorted(found)


# --- membership semantics: each operator is the set operation it claims to be ----------


@LAWS
@given(connection_sets, connection_sets)
def test_operators_mean_set_operations(a: ConnectionSet, b: ConnectionSet) -> None:
    for protocol, q in _probes(a, b):
        in_a, in_b = a.contains(protocol, q), b.contains(protocol, q)
        assert (a | b).contains(protocol, q) == (in_a or in_b)
        assert (a & b).contains(protocol, q) == (in_a and in_b)
        assert (a - b).contains(protocol, q) == (in_a and not in_b)
        assert (~a).contains(protocol, q) == (not in_a)


@LAWS
@given(st.dictionaries(st.sampled_from(PROTOCOLS), st.lists(_interval(), max_size=6)))
def test_from_intervals_contains_exactly_the_given_ports(
    by_protocol: dict[str, list[tuple[int, int]]],
) -> None:
    s = ConnectionSet.from_intervals(by_protocol)
    for protocol, q in _probes(s, ConnectionSet.from_intervals(by_protocol)):
        expected = any(lo <= q <= hi for lo, hi in by_protocol.get(protocol, ()))
        assert s.contains(protocol, q) == expected
    for protocol, intervals in by_protocol.items():
        for lo, hi in intervals:
            assert s.contains(protocol, lo) and s.contains(protocol, hi)


# --- algebraic laws (on the canonical form: equal sets are equal objects) --------------


@LAWS
@given(connection_sets, connection_sets)
def test_union_and_intersection_are_commutative(a: ConnectionSet, b: ConnectionSet) -> None:
    assert a | b == b | a
    assert a & b == b & a


@LAWS
@given(connection_sets, connection_sets, connection_sets)
def test_union_and_intersection_are_associative(
    a: ConnectionSet, b: ConnectionSet, c: ConnectionSet
) -> None:
    assert (a | b) | c == a | (b | c)
    assert (a & b) & c == a & (b & c)


@LAWS
@given(connection_sets, connection_sets, connection_sets)
def test_distributive_laws(a: ConnectionSet, b: ConnectionSet, c: ConnectionSet) -> None:
    assert a & (b | c) == (a & b) | (a & c)
    assert a | (b & c) == (a | b) & (a | c)


@LAWS
@given(connection_sets, connection_sets)
def test_de_morgan(a: ConnectionSet, b: ConnectionSet) -> None:
    assert ~(a | b) == ~a & ~b
    assert ~(a & b) == ~a | ~b


@LAWS
@given(connection_sets)
def test_complement_is_an_involution_and_partitions_everything(a: ConnectionSet) -> None:
    assert ~~a == a
    assert (a | ~a).is_all
    assert (a & ~a).is_empty


@LAWS
@given(connection_sets, connection_sets)
def test_difference_is_intersection_with_complement(a: ConnectionSet, b: ConnectionSet) -> None:
    assert a - b == a & ~b
    assert (a - b) & b == ConnectionSet.none()
    assert (a - b) | (a & b) == a


@LAWS
@given(connection_sets, connection_sets)
def test_subset_order(a: ConnectionSet, b: ConnectionSet) -> None:
    assert a <= a | b
    assert b <= a | b
    assert a & b <= a
    assert ConnectionSet.none() <= a <= ConnectionSet.all()
    assert (a <= b) == ((a & b) == a)
    if a <= b and b <= a:
        assert a == b


@LAWS
@given(connection_sets)
def test_identities(a: ConnectionSet) -> None:
    assert a | ConnectionSet.none() == a
    assert a & ConnectionSet.all() == a
    assert a | ConnectionSet.all() == ConnectionSet.all()
    assert a & ConnectionSet.none() == ConnectionSet.none()
    assert a | a == a
    assert a & a == a


@LAWS
@given(st.lists(connection_sets, max_size=5))
def test_union_of_is_the_fold_of_or(sets: list[ConnectionSet]) -> None:
    folded = ConnectionSet.none()
    for s in sets:
        folded = folded | s
    assert ConnectionSet.union_of(sets) == folded


@LAWS
@given(connection_sets)
def test_intervals_are_sorted_disjoint_merged_and_in_range(a: ConnectionSet) -> None:
    for protocol in PROTOCOLS:
        intervals = a.intervals(protocol)
        for lo, hi in intervals:
            assert MIN_PORT <= lo <= hi <= MAX_PORT
        for (_, prev_hi), (lo, _) in itertools.pairwise(intervals):
            # strictly after the previous one, with a gap: touching intervals are merged
            assert lo > prev_hi + 1
    assert a.is_empty == (not any(a.intervals(p) for p in PROTOCOLS))
    assert a.protocols() == tuple(p for p in PROTOCOLS if a.intervals(p))


@LAWS
@given(connection_sets)
def test_text_round_trips(a: ConnectionSet) -> None:
    assert parse_connection_set(a.text()) == a
    assert str(a) == a.text()


@LAWS
@given(connection_sets)
def test_json_form_lists_the_intervals(a: ConnectionSet) -> None:
    as_json = a.to_json()
    assert set(as_json) == set(a.protocols())
    assert (
        ConnectionSet.from_intervals(
            {p: [(lo, hi) for lo, hi in spans] for p, spans in as_json.items()}
        )
        == a
    )


# --- text form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("connections", "text"),
    [
        pytest.param(
            (ConnectionSet.whole("TCP") - ConnectionSet.of("TCP", 80))
            | ConnectionSet.of("UDP", 53),
            "TCP 1-79,81-65535,UDP 53",
            id="all-tcp-but-80-and-dns",
        ),
        pytest.param(ConnectionSet.all(), "All Connections", id="all"),
        pytest.param(ConnectionSet.none(), "No Connections", id="none"),
        pytest.param(
            ConnectionSet.whole("TCP") | ConnectionSet.whole("UDP") | ConnectionSet.whole("SCTP"),
            "All Connections",
            id="every-protocol-whole-is-all",
        ),
        pytest.param(ConnectionSet.whole("UDP"), "UDP 1-65535", id="one-whole-protocol"),
        pytest.param(ConnectionSet.of("SCTP", 81), "SCTP 81", id="single-port"),
        pytest.param(ConnectionSet.of("TCP", 32000, 32768), "TCP 32000-32768", id="end-port-range"),
        pytest.param(
            ConnectionSet.of("TCP", 80) | ConnectionSet.of("TCP", 81) | ConnectionSet.of("TCP", 83),
            "TCP 80-81,83",
            id="adjacent-ports-merge",
        ),
        pytest.param(
            ConnectionSet.of("SCTP", 9) | ConnectionSet.of("UDP", 7) | ConnectionSet.of("TCP", 5),
            "TCP 5,UDP 7,SCTP 9",
            id="protocols-in-fixed-order",
        ),
        pytest.param(
            ~ConnectionSet.of("UDP", 1), "TCP 1-65535,UDP 2-65535,SCTP 1-65535", id="almost-all"
        ),
    ],
)
def test_text(connections: ConnectionSet, text: str) -> None:
    assert connections.text() == text
    assert parse_connection_set(text) == connections


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("TCP 1-79, 81-65535, UDP 53", "TCP 1-79,81-65535,UDP 53", id="spaces"),
        pytest.param("  All Connections ", "All Connections", id="padded-all"),
        pytest.param("", "No Connections", id="empty-is-none"),
        pytest.param("UDP 53,TCP 80,UDP 54", "TCP 80,UDP 53-54", id="unordered-and-repeated"),
        pytest.param("TCP 80-90,85-100", "TCP 80-100", id="overlapping"),
    ],
)
def test_parse_normalises(text: str, expected: str) -> None:
    assert parse_connection_set(text).text() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("ICMP 8", "unknown protocol 'ICMP' (TCP, UDP or SCTP)", id="icmp"),
        pytest.param("tcp 80", "unknown protocol 'tcp' (TCP, UDP or SCTP)", id="lowercase"),
        pytest.param("80", "port '80' has no protocol before it", id="no-protocol"),
        pytest.param("TCP http", "bad port range 'http'", id="named-port"),
        pytest.param("TCP 1-2-3", "bad port range '1-2-3'", id="two-dashes"),
        pytest.param("TCP 80-", "bad port range '80-'", id="open-range"),
        pytest.param("TCP 80,,81", "bad port range ''", id="empty-item"),
        pytest.param("TCP 0", "port range '0' outside 1-65535", id="port-zero"),
        pytest.param("UDP 1-65536", "port range '1-65536' outside 1-65535", id="above-max"),
        pytest.param("TCP 90-80", "port range '90-80' outside 1-65535", id="reversed"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_connection_set(text)
    assert str(caught.value) == message


def test_whole_protocol_and_single_port_constructors() -> None:
    tcp = ConnectionSet.whole("TCP")
    assert tcp.contains("TCP", MIN_PORT) and tcp.contains("TCP", MAX_PORT)
    assert not tcp.contains("UDP", 80)
    assert not tcp.is_all and not tcp.is_empty
    assert ConnectionSet.of("UDP", 53).intervals("UDP") == ((53, 53),)
    assert ConnectionSet.of("TCP", 80, 90).intervals("TCP") == ((80, 90),)
    assert list(ConnectionSet.of("TCP", 80) | ConnectionSet.of("SCTP", 5)) == [
        ("TCP", 80, 80),
        ("SCTP", 5, 5),
    ]
