"""Attribute values become the strings pcommon.Value.AsString renders (what the collector stores)."""

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from cctelemetry.ingest.attributes import as_string, attributes_map, format_double


@pytest.mark.parametrize("value, text", [
    (0.0571128, "0.0571128"), (1.0, "1"), (100.0, "100"), (-2.5, "-2.5"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"),
    (0.000001, "0.000001"), (1e20, "100000000000000000000"), (1e21, "1e+21"), (0.1 + 0.2, "0.30000000000000004"),
    (0.0, "0"), (123456789.125, "123456789.125"),
])  # fmt: skip
def test_doubles_in_shortest_es6_form(value, text):
    assert format_double(value) == text


def kv_list(**items):
    return AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in items.items()]))


@pytest.mark.parametrize("value, text", [
    (AnyValue(string_value="hi"), "hi"),
    (AnyValue(int_value=1234), "1234"),
    (AnyValue(int_value=-7), "-7"),
    (AnyValue(bool_value=True), "true"),
    (AnyValue(bool_value=False), "false"),
    (AnyValue(double_value=0.25), "0.25"),
    (AnyValue(bytes_value=b"\x01\x02"), "AQI="),
    (AnyValue(), ""),
    (AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="end_turn"), AnyValue(int_value=2)])),
     '["end_turn",2]'),
    (kv_list(b=AnyValue(double_value=1.0), a=AnyValue(string_value="<x&y>")), '{"a":"\\u003cx\\u0026y\\u003e","b":1}'),
])  # fmt: skip
def test_any_value_as_string(value, text):
    assert as_string(value) == text


def test_attribute_maps_are_sorted_by_key():
    attrs = [KeyValue(key="z", value=AnyValue(int_value=1)), KeyValue(key="a", value=AnyValue(string_value="x"))]
    assert list(attributes_map(attrs)) == ["a", "z"]
