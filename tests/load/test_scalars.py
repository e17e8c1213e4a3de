"""Plain scalars mean what they mean to kubectl (go-yaml v2, then JSON to the API server),
a scalar that cannot be what its tag says is an error with its line, never a traceback,
and what netpol writes reads back as written."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.load.scalars import SafeDumper
from netpol.load.yamldoc import parse_text

READ_AS_KUBECTL_READS = [
    # (written, read) -- where YAML 1.1 (PyYAML) reads otherwise, the comment says how
    ("80", 80),
    ("+80", 80),
    ("-1", -1),
    ("0", 0),
    ("1_000", 1000),
    ("0x50", 80),
    ("0X50", 80),
    ("0o17", 15),  # YAML 1.1: the string "0o17"
    ("017", 15),
    ("08", 8),  # YAML 1.1: the string "08"; Go: not octal, so the float 8
    ("0b101", 5),
    ("-0b101", -5),
    ("1e3", 1000),  # YAML 1.1: the string "1e3"
    ("1E3", 1000),
    ("1.5e3", 1500),
    ("6.8523015e+5", 685230.15),
    ("80.0", 80),  # a whole float reaches the API server as the JSON number 80
    ("80.5", 80.5),
    (".5", 0.5),
    ("1.", 1),
    ("1:30", "1:30"),  # YAML 1.1: sexagesimal 90
    ("190:20:30.15", "190:20:30.15"),
    ("y", True),  # YAML 1.1 in PyYAML: the string "y"
    ("Y", True),
    ("n", False),
    ("N", False),
    ("yes", True),
    ("On", True),
    ("OFF", False),
    ("TRUE", True),
    ("false", False),
    ("~", None),
    ("null", None),
    ("NULL", None),
    ("=", "="),  # PyYAML: a "value" tag it cannot construct
    ("2001-12-14", "2001-12-14"),  # go-yaml keeps a timestamp's text in an untyped value
    ("0x", "0x"),
    ("1e", "1e"),
    ("e3", "e3"),
    ("1.2.3", "1.2.3"),
    ("1__0", 10),
    ("9223372036854775807", 2**63 - 1),
    ("9223372036854775808", float(2**63)),  # Go's ParseUint, then a float64 in the API
    ("18446744073709551615", float(2**64 - 1)),  # server's JSON decoding (kubectl agrees)
    ("18446744073709551616", float(2**64)),  # neither: a float, too large for an int64
    ("1e400", "1e400"),  # Go's ParseFloat: out of range, so go-yaml keeps the text
    ("-1e400", "-1e400"),
    (".5e400", ".5e400"),
    ("1e-400", 0),  # an underflow is no error in Go: zero
    ("1" * 5000, "1" * 5000),  # beyond a float too (and beyond Python's int() digit limit)
    ("<<", "<<"),  # only a mapping key merges; elsewhere go-yaml reads a string
    ("'80'", "80"),
    ('"1e3"', "1e3"),
    ("!!str 7", "7"),
    ("!!int 0x1F", 31),
    ("!!float 80", 80),
    ("!!float 2.5", 2.5),
    ("!!bool y", True),
]


def _value(text: str) -> Any:
    docs, problems = parse_text(f"v: {text}\n", "x.yaml")
    assert problems == []
    return docs[0].data["v"]


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} characters)"


@pytest.mark.parametrize(("written", "read"), READ_AS_KUBECTL_READS, ids=_short)
def test_scalars_read_as_kubectl_reads_them(written: str, read: Any) -> None:
    value = _value(written)
    assert (type(value), value) == (type(read), read)


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} characters)"


@pytest.mark.parametrize(("written", "read"), READ_AS_KUBECTL_READS, ids=_short)
def test_the_general_path_reads_scalars_the_same(written: str, read: Any) -> None:
    docs, problems = parse_text(f"v: {written}\nw: &anchor [1]\nx: *anchor\n", "x.yaml")
    assert problems == []
    value = docs[0].data["v"]
    assert (type(value), value) == (type(read), read)


@pytest.mark.parametrize("written", [".inf", "-.Inf", "+.INF", ".NaN", "!!float .nan"])
def test_infinities_and_nan_are_refused_as_kubectl_refuses_them(written: str) -> None:
    # go-yaml reads them, but kubectl's YAML-to-JSON step fails: json: unsupported value
    _, problems = parse_text(f"a: 1\nv: {written}\n", "x.yaml")
    shown = written.removeprefix("!!float ")
    assert [p.one_line() for p in problems] == [
        f'x.yaml:2: error: invalid YAML: "{shown}" is a YAML float (infinite or NaN) that JSON '
        f"cannot carry: kubectl refuses the file (json: unsupported value); quote it for the "
        f'string "{shown}"'
    ]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("!!int abc", 'x.yaml:2: error: invalid YAML: cannot read "abc" as !!int'),
        ("!!int 1:30", 'x.yaml:2: error: invalid YAML: cannot read "1:30" as !!int'),
        ("!!float abc", 'x.yaml:2: error: invalid YAML: cannot read "abc" as !!float'),
        ("!!bool maybe", 'x.yaml:2: error: invalid YAML: cannot read "maybe" as !!bool'),
        ("!!timestamp x", 'x.yaml:2: error: invalid YAML: cannot read "x" as !!timestamp'),
        ("!!float 1e400", 'x.yaml:2: error: invalid YAML: cannot read "1e400" as !!float'),
    ],
)
def test_a_scalar_its_tag_does_not_fit_is_an_error_on_its_line(written: str, message: str) -> None:
    _, problems = parse_text(f"a: 1\nv: {written}\n", "x.yaml")
    assert [p.one_line() for p in problems] == [message]


def test_json_whole_floats_are_integers_as_the_api_server_receives_them() -> None:
    # JSON is read by the JSON decoder (a leading tab would make the YAML reader refuse it),
    # which knows every key's line
    docs, problems = parse_text('\t{"a": 1.0e3,\n"b": 80.5,\n"c": 80}', "x.json")
    assert problems == []
    assert [(type(v), v) for v in docs[0].data.values()] == [(int, 1000), (float, 80.5), (int, 80)]
    assert list(docs[0].data.key_lines.values()) == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('\t{"a": 1e400}', "x.json:1: error: invalid JSON: number 1e400 is out of range"),
        (
            '\t{"a": ' + "1" * 5000 + "}",
            "x.json:1: error: invalid JSON: number 1111111111... is out of range",
        ),
    ],
    ids=["1e400", "5000 digits"],
)
def test_json_numbers_beyond_a_float_are_an_error_not_a_traceback(text: str, message: str) -> None:
    _, problems = parse_text(text, "x.json")
    assert [p.one_line() for p in problems] == [message]


TRICKY_STRINGS = [w for w, _ in READ_AS_KUBECTL_READS if not w.startswith(("'", '"', "!"))]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(max_size=12)))
def test_the_dumper_quotes_every_string_kubectl_would_read_as_something_else(text: str) -> None:
    written = yaml.dump({"v": text}, Dumper=SafeDumper)
    docs, problems = parse_text(written, "x.yaml")
    assert problems == []
    assert docs[0].data["v"] == text


@pytest.mark.parametrize("text", ["y", "1e3", "0o17", "08"])
def test_strings_that_read_as_other_values_are_quoted(text: str) -> None:
    assert yaml.dump({"v": text}, Dumper=SafeDumper) == f"v: '{text}'\n"


@pytest.mark.parametrize("text", ["1:30", "=", "2001-12-14", "web"])
def test_strings_kubectl_reads_as_strings_stay_plain(text: str) -> None:
    assert yaml.dump({"v": text}, Dumper=SafeDumper) == f"v: {text}\n"


@pytest.mark.parametrize(
    ("written", "key"),
    [("y", "true"), ("Off", "false"), ("80", "80"), ("0x50", "80"), ("80.0", "80"), ("1.5", "1.5")],
)
def test_a_key_that_is_no_string_becomes_its_text_as_in_kubectls_json(
    written: str, key: str
) -> None:
    for general in ("", "w: &anchor [1]\nx: *anchor\n"):
        docs, problems = parse_text(f"{written}: a\n{general}", "x.yaml")
        assert problems == []
        assert next(iter(docs[0].data)) == key
        assert docs[0].data.key_lines[key] == 1


@pytest.mark.parametrize("written", ["~", "[a]", "{a: b}"])
def test_a_null_list_or_mapping_key_is_refused(written: str) -> None:
    _, problems = parse_text(f"? {written}\n: a\n", "x.yaml")
    assert [p.one_line() for p in problems] == [
        "x.yaml:1: error: invalid YAML: found a mapping key that is not a string, a number or a "
        "boolean"
    ]


def test_two_keys_of_one_text_are_duplicates() -> None:
    _, problems = parse_text("on: a\n'true': b\n", "x.yaml")
    assert [p.one_line() for p in problems] == [
        'x.yaml:2: error: invalid YAML: duplicate key "true" (first at line 1)'
    ]


def test_a_label_key_y_is_the_label_true_as_kubectl_sends_it() -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {y: b}\n"
    docs, problems = parse_text(text, "ns.yaml")
    assert problems == []
    assert dict(docs[0].data["metadata"]["labels"]) == {"true": "b"}


NUMBER_KEYS = [
    # (written as a key, the key kubectl writes into JSON) -- floats as Go's
    # FormatFloat(f, 'g', -1, 32), the precision sigs.k8s.io/yaml uses for keys
    ("80", "80"),
    ("0x1F", "31"),
    ("9223372036854775807", "9223372036854775807"),
    ("-9223372036854775808", "-9223372036854775808"),
    ("-9223372036854775809", "-9.223372e+18"),  # beyond int64: a float
    ("1e3", "1000"),
    ("1e6", "1e+06"),
    ("80.0", "80"),
    ("1234567.5", "1.2345675e+06"),
    ("3.14159265358979", "3.1415927"),  # float32 digits
    ("0.00001", "1e-05"),
    ("0.000123", "0.000123"),
    ("-0.0", "-0"),
    ("08", "8"),
    ("1e300", ".inf"),  # beyond a float32
    (".Inf", ".inf"),
    ("-.inf", "-.inf"),
    (".NaN", ".nan"),
]


@pytest.mark.parametrize(("written", "key"), NUMBER_KEYS)
def test_number_keys_are_written_as_kubectl_writes_them(written: str, key: str) -> None:
    for text in (f"{written}: v\n", f"{written}: v\nw: &a [1]\nx: *a\n"):  # both paths
        docs, problems = parse_text(text, "x.yaml")
        assert problems == []
        assert next(iter(docs[0].data)) == key


def test_an_integer_key_beyond_int64_is_refused_as_kubectl_refuses_it() -> None:
    _, problems = parse_text("a: 1\n18446744073709551615: v\n", "x.yaml")
    assert [p.one_line() for p in problems] == [
        "x.yaml:2: error: invalid YAML: mapping key 18446744073709551615 is beyond a signed "
        "64-bit integer: kubectl refuses the file (unsupported map key of type: uint64); "
        'quote it for the key "18446744073709551615"'
    ]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("v: 9223372036854775808\n", "x.yaml"),  # go-yaml: an uint64
        ("v: 18446744073709551615\n", "x.yaml"),
        ('\t{"v": 9223372036854775808}', "x.json"),  # the JSON reader
    ],
)
def test_integers_beyond_int64_are_the_float64_the_api_server_decodes(text: str, path: str) -> None:
    # kubectl v1.32 prints them back as 9223372036854776000 and 18446744073709552000
    docs, problems = parse_text(text, path)
    assert problems == []
    value = docs[0].data["v"]
    assert type(value) is float and value == float(int(text.split(":")[1].strip(" }\n")))
