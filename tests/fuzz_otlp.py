"""Hypothesis generators of OTLP export requests (logs, metrics, traces) and of the bodies a client may send:
valid (protobuf and JSON, hex or base64 ids, gzip), at the boundaries (empty, huge and unicode strings,
int64 and uint64 extremes, NaN and infinities, ids of the wrong size, unknown enum values, deep AnyValues,
hundreds of attributes, end before start, the agents' own event names with nonsense values) and broken
(flipped and cut bytes, wrong JSON types, wrong content types and encodings, gzip that is not gzip)."""

from __future__ import annotations

import gzip
import json
import random

from google.protobuf import json_format
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

SIGNALS = ("logs", "metrics", "traces")
REQUESTS = {
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "traces": ExportTraceServiceRequest,
}

U64 = 2**64 - 1
I64 = 2**63 - 1
# Keys the service reads (materialized views, reports, the ingest policy), so values land where they count.
KEYS = ["session.id", "event.name", "event.sequence", "prompt.id", "user.id", "user.email", "model", "request_id",
        "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "cost_usd", "duration_ms",
        "query_source", "agent.name", "speed", "tool_name", "tool_use_id", "success", "decision", "source",
        "status_code", "attempt", "prompt", "tool_input", "tool_parameters", "type", "language", "span.type",
        "gen_ai.conversation.id", "service.name", "agent.type", "team", "tool_input_size_bytes"]  # fmt: skip
BODIES = ["claude_code.api_request", "claude_code.tool_result", "claude_code.tool_decision", "claude_code.api_error",
          "claude_code.user_prompt", "claude_code.api_retries_exhausted", "gemini_cli.api_response",
          "codex.sse_event", "claude_code.", ""]  # fmt: skip
METRICS = ["claude_code.token.usage", "claude_code.cost.usage", "claude_code.lines_of_code.count",
           "claude_code.active_time.total", "claude_code.commit.count", "gemini_cli.token.usage", "x"]  # fmt: skip
SPANS = ["claude_code.interaction", "claude_code.llm_request", "claude_code.tool", "claude_code.tool.execution",
         "llm_call", ""]  # fmt: skip

text = st.one_of(
    st.sampled_from(["", "0", "-1", "1e308", "NaN", "true", "<REDACTED>", "req_x", "a@b.c", "1234", "9" * 30,
                     "claude-sonnet-4-5", "2026-11-22T10:38:23.417Z"]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=3).map(lambda s: s * 300),  # long, multi-byte
)  # fmt: skip
u64 = st.one_of(st.sampled_from([0, 1, U64, 2**63, 1795343903417000000]), st.integers(0, U64))
i64 = st.one_of(st.sampled_from([0, -1, I64, -I64 - 1]), st.integers(-I64 - 1, I64))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-7, 1e21]))
ids = st.one_of(st.just(b""), st.binary(min_size=16, max_size=16), st.binary(min_size=8, max_size=8),
                st.just(b"\0" * 16), st.binary(max_size=20))  # fmt: skip


def any_values(max_leaves: int = 8):
    scalar = st.one_of(
        text.map(lambda s: AnyValue(string_value=s)),
        i64.map(lambda i: AnyValue(int_value=i)),
        floats.map(lambda f: AnyValue(double_value=f)),
        st.booleans().map(lambda b: AnyValue(bool_value=b)),
        st.binary(max_size=40).map(lambda b: AnyValue(bytes_value=b)),
        st.just(AnyValue()),
    )

    def nest(inner):
        def array(values):
            v = AnyValue()
            v.array_value.values.extend(values)
            return v

        def kvlist(pairs):
            v = AnyValue()
            v.kvlist_value.values.extend(KeyValue(key=k, value=x) for k, x in pairs)
            return v

        return st.one_of(st.lists(inner, max_size=4).map(array),
                         st.lists(st.tuples(st.text(max_size=8), inner), max_size=4).map(kvlist))  # fmt: skip

    return st.recursive(scalar, nest, max_leaves=max_leaves)


KEY = st.one_of(st.sampled_from(KEYS), st.text(max_size=20))
VALUE = any_values(4)


@st.composite
def attributes(draw, many: bool = False):
    """A few drawn attributes; with ``many``, also up to 300 made ones (over the count limit, cheaply)."""
    out = [KeyValue(key=draw(KEY), value=draw(VALUE)) for _ in range(draw(st.integers(0, 6)))]
    if many:
        n, size = draw(st.integers(0, 300)), draw(st.sampled_from([1, 100, 20_000]))
        out += [KeyValue(key=f"k{i:03d}", value=AnyValue(string_value="v" * size)) for i in range(n)]
    return out


def _resource(draw, container):
    container.resource.attributes.extend(draw(attributes(many=draw(st.booleans()) and draw(st.booleans()))))
    if draw(st.booleans()):
        container.resource.attributes.add(key="service.name", value=AnyValue(string_value=draw(text)))
    container.schema_url = draw(st.sampled_from(["", "https://opentelemetry.io/schemas/1.21.0"]))


@st.composite
def logs_request(draw):
    request = ExportLogsServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        rl = request.resource_logs.add()
        _resource(draw, rl)
        for _ in range(draw(st.integers(0, 2))):
            sl = rl.scope_logs.add()
            sl.scope.name = draw(text)
            sl.scope.attributes.extend(draw(attributes()))
            for _ in range(draw(st.integers(0, 4))):
                r = sl.log_records.add()
                r.time_unix_nano, r.observed_time_unix_nano = draw(u64), draw(u64)
                r.severity_number = draw(st.integers(-(2**31), 2**31 - 1))
                r.severity_text = draw(text)
                r.body.CopyFrom(draw(st.one_of(st.sampled_from(BODIES).map(lambda b: AnyValue(string_value=b)),
                                               any_values())))  # fmt: skip
                r.attributes.extend(draw(attributes(many=draw(st.integers(0, 9)) == 0)))
                r.trace_id, r.span_id, r.flags = draw(ids), draw(ids), draw(st.integers(0, 2**32 - 1))
                r.event_name = draw(st.sampled_from(BODIES))
    return request


@st.composite
def traces_request(draw):
    request = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        rs = request.resource_spans.add()
        _resource(draw, rs)
        for _ in range(draw(st.integers(0, 2))):
            ss = rs.scope_spans.add()
            ss.scope.name = draw(text)
            for _ in range(draw(st.integers(0, 4))):
                s = ss.spans.add()
                s.trace_id, s.span_id, s.parent_span_id = draw(ids), draw(ids), draw(ids)
                s.name = draw(st.one_of(st.sampled_from(SPANS), text))
                s.kind = draw(st.integers(-5, 10))
                s.start_time_unix_nano, s.end_time_unix_nano = draw(u64), draw(u64)
                s.attributes.extend(draw(attributes(many=draw(st.integers(0, 9)) == 0)))
                s.status.code, s.status.message = draw(st.integers(-2, 5)), draw(text)
                for _ in range(draw(st.integers(0, 2))):
                    e = s.events.add()
                    e.time_unix_nano, e.name = draw(u64), draw(text)
                    e.attributes.extend(draw(attributes()))
                for _ in range(draw(st.integers(0, 2))):
                    link = s.links.add()
                    link.trace_id, link.span_id = draw(ids), draw(ids)
                    link.attributes.extend(draw(attributes()))
    return request


@st.composite
def metrics_request(draw):
    request = ExportMetricsServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        rm = request.resource_metrics.add()
        _resource(draw, rm)
        for _ in range(draw(st.integers(0, 2))):
            sm = rm.scope_metrics.add()
            sm.scope.name = draw(text)
            for _ in range(draw(st.integers(0, 4))):
                m = sm.metrics.add()
                m.name, m.unit, m.description = draw(st.one_of(st.sampled_from(METRICS), text)), draw(text), draw(text)
                kind = draw(st.sampled_from(["gauge", "sum", "histogram", "exponential_histogram", "summary", None]))
                if kind is None:
                    continue
                data = getattr(m, kind)
                if kind in ("sum", "histogram", "exponential_histogram"):
                    data.aggregation_temporality = draw(st.integers(-1, 4))
                if kind == "sum":
                    data.is_monotonic = draw(st.booleans())
                for _ in range(draw(st.integers(0, 4))):
                    p = data.data_points.add()
                    p.start_time_unix_nano, p.time_unix_nano = draw(u64), draw(u64)
                    p.attributes.extend(draw(attributes()))
                    if kind in ("gauge", "sum"):
                        if draw(st.booleans()):
                            p.as_double = draw(floats)
                        else:
                            p.as_int = draw(i64)
                        for _ in range(draw(st.integers(0, 2))):
                            ex = p.exemplars.add()
                            ex.time_unix_nano, ex.as_double = draw(u64), draw(floats)
                            ex.span_id, ex.trace_id = draw(ids), draw(ids)
                            ex.filtered_attributes.extend(draw(attributes()))
                    elif kind == "histogram":
                        p.count, p.sum = draw(u64), draw(floats)
                        p.bucket_counts.extend(draw(st.lists(u64, max_size=6)))
                        p.explicit_bounds.extend(draw(st.lists(floats, max_size=6)))
                        p.min, p.max = draw(floats), draw(floats)
                    elif kind == "exponential_histogram":
                        p.count, p.sum, p.scale, p.zero_count = (
                            draw(u64),
                            draw(floats),
                            draw(st.integers(-20, 20)),
                            draw(u64),
                        )
                        p.positive.offset = draw(st.integers(-(2**31), 2**31 - 1))
                        p.positive.bucket_counts.extend(draw(st.lists(u64, max_size=5)))
                    else:
                        p.count, p.sum = draw(u64), draw(floats)
                        for _ in range(draw(st.integers(0, 3))):
                            q = p.quantile_values.add()
                            q.quantile, q.value = draw(floats), draw(floats)
    return request


REQUEST_STRATEGIES = {"logs": logs_request(), "metrics": metrics_request(), "traces": traces_request()}


def to_json(message, hex_ids: bool) -> bytes:
    """OTLP/JSON: the protobuf JSON mapping (base64 ids), or with hex ids as the OTLP spec writes them."""
    doc = json_format.MessageToDict(message)
    if hex_ids:
        doc = _hex_ids(doc)
    return json.dumps(doc, allow_nan=True).encode()


def _hex_ids(node):
    import base64

    if isinstance(node, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
                    else _hex_ids(v)) for k, v in node.items()}  # fmt: skip
    if isinstance(node, list):
        return [_hex_ids(v) for v in node]
    return node


def _mutate_json(doc, rng: random.Random, replacement):
    """Replace one node of ``doc`` (picked with ``rng``) by ``replacement``."""
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))

    walk(doc, ())
    path = rng.choice(paths)
    if not path:
        return replacement
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    return doc


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), floats, st.text(max_size=30),
                         st.sampled_from(["", "0x", "AAAA", "00" * 16, "zz" * 8, "NaN"]))  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10,
)


@st.composite
def http_cases(draw):
    """(signal, body, headers, kind): one OTLP/HTTP request as a client might send it."""
    signal = draw(st.sampled_from(SIGNALS))
    message = draw(REQUEST_STRATEGIES[signal])
    kind = draw(st.sampled_from(["protobuf", "json", "json-hex", "gzip", "flipped", "cut", "wrong-type",
                                 "content-type", "bad-gzip", "deep"]))  # fmt: skip
    pb = message.SerializeToString()
    headers = {"Content-Type": "application/x-protobuf"}
    if kind == "protobuf":
        body = pb
    elif kind in ("json", "json-hex"):
        body, headers = to_json(message, kind == "json-hex"), {"Content-Type": "application/json"}
    elif kind == "gzip":
        body, headers = gzip.compress(pb), {**headers, "Content-Encoding": "gzip"}
    elif kind in ("flipped", "cut"):
        rng = random.Random(draw(st.integers(0, 2**32)))
        data = bytearray(pb)
        if kind == "cut" and data:
            data = data[: rng.randrange(len(data))]
        for _ in range(draw(st.integers(1, 20)) if data else 0):
            data[rng.randrange(len(data))] = rng.randrange(256)
        body = bytes(data)
    elif kind == "wrong-type":
        rng = random.Random(draw(st.integers(0, 2**32)))
        doc = _mutate_json(json_format.MessageToDict(message), rng, draw(json_values))
        body, headers = json.dumps(doc, allow_nan=True).encode(), {"Content-Type": "application/json"}
    elif kind == "content-type":
        body = pb
        headers = {
            "Content-Type": draw(
                st.sampled_from(
                    [
                        "text/plain",
                        "",
                        "application/json",
                        "application/protobuf",
                        "application/x-protobuf; charset=utf-8",
                        "multipart/form-data",
                    ]
                )
            )
        }
        if draw(st.booleans()):
            headers["Content-Encoding"] = draw(st.sampled_from(["br", "zstd", "identity", "deflate", "GZIP"]))
    elif kind == "bad-gzip":
        body, headers = pb[:50], {**headers, "Content-Encoding": "gzip"}
    else:  # deep
        depth = draw(st.integers(1, 5000))
        opener = draw(st.sampled_from(["[", '{"a":', '{"resourceLogs":[', '{"resourceSpans":[{"resource":']))
        closer = {"[": "]", '{"a":': "}", '{"resourceLogs":[': "]}", '{"resourceSpans":[{"resource":': "}]}"}[opener]
        body, headers = (opener * depth + "1" + closer * depth).encode(), {"Content-Type": "application/json"}
    return signal, body, headers, kind


@st.composite
def grpc_cases(draw):
    """(signal, bytes, kind) for an OTLP/gRPC Export: a serialized request, or broken bytes."""
    signal = draw(st.sampled_from(SIGNALS))
    pb = draw(REQUEST_STRATEGIES[signal]).SerializeToString()
    kind = draw(st.sampled_from(["valid", "valid", "flipped", "cut"]))
    if kind != "valid" and pb:
        rng = random.Random(draw(st.integers(0, 2**32)))
        data = bytearray(pb if kind == "flipped" else pb[: rng.randrange(len(pb))])
        for _ in range(draw(st.integers(1, 10)) if data else 0):
            data[rng.randrange(len(data))] = rng.randrange(256)
        pb = bytes(data)
    return signal, pb, kind
