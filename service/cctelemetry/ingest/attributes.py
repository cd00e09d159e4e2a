"""OTLP AnyValue -> the string the collector stores, as ``pcommon.Value.AsString`` renders it.

Strings stay as they are; ints in decimal; doubles in the shortest round-trip form with ES6
cut-offs (fixed notation for 1e-6 <= |x| < 1e21, else ``1e-7`` / ``1e+21``); bools ``true``/``false``;
bytes base64; maps and arrays as Go's ``json.Marshal`` writes them (sorted keys, no spaces, HTML
characters escaped). The exporter stores attribute maps with sorted keys.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

_GO_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def format_double(value: float) -> str:
    """Go's float64AsString: ES6 number-to-string, as encoding/json does."""
    if math.isnan(value) or math.isinf(value):
        return "json: unsupported value: " + ("NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf"))
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exp = Decimal(repr(value)).as_tuple()
    digits_s = "".join(map(str, digits)).rstrip("0") or "0"
    # exponent of the first digit, as in d.ddd x 10^point
    point = len(digits) + int(exp) - 1  # finite here, so the exponent is a number
    prefix = "-" if sign else ""
    if 1e-6 <= abs(value) < 1e21:
        return prefix + _fixed(digits_s, point)
    mantissa = digits_s[0] + ("." + digits_s[1:] if len(digits_s) > 1 else "")
    return f"{prefix}{mantissa}e{'-' if point < 0 else '+'}{abs(point):02d}".replace("e-0", "e-")


def _fixed(digits: str, point: int) -> str:
    if point < 0:
        return "0." + "0" * (-point - 1) + digits
    if len(digits) <= point + 1:
        return digits + "0" * (point + 1 - len(digits))
    return digits[: point + 1] + "." + digits[point + 1 :]


def any_value_to_python(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "kvlist_value":
        return {kv.key: any_value_to_python(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [any_value_to_python(v) for v in value.array_value.values]
    return getattr(value, kind)


def as_string(value: AnyValue) -> str:
    kind = value.WhichOneof("value")
    if kind is None:
        return ""
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return format_double(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return go_json(any_value_to_python(value))


def go_json(obj: Any) -> str:
    """Encode like Go's json.Marshal of a pcommon AsRaw() value."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return format_double(obj)
    if isinstance(obj, bytes):
        return '"' + base64.b64encode(obj).decode() + '"'
    if isinstance(obj, str):
        return _go_string(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{_go_string(k)}:{go_json(obj[k])}" for k in sorted(obj)) + "}"
    return "[" + ",".join(go_json(v) for v in obj) + "]"


def _go_string(s: str) -> str:
    import json

    out = json.dumps(s, ensure_ascii=False)
    for raw, esc in _GO_JSON_ESCAPES.items():
        out = out.replace(raw, esc)
    return out


def attributes_map(attributes) -> dict[str, str]:
    """A repeated KeyValue -> {key: AsString(value)} with sorted keys (last duplicate wins)."""
    return dict(sorted({kv.key: as_string(kv.value) for kv in attributes}.items()))
