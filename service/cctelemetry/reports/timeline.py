"""A session's timeline: its interactions (a user prompt and everything it caused), each with its model
requests in order, each request with the tools its answer called; a tool that ran a subagent (Agent)
holds the subagent's own requests and tools.

From spans when the session has any (``otel_traces``: Claude Code with
``CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1``, Gemini CLI with traces on; kept ``CCTELEMETRY_RAW_TTL_HOURS``),
else from events (``agent_events`` and the session's requests, kept ``CCTELEMETRY_RETENTION_DAYS``). Both
give the same shape:

- spans: the parent ids give the tree (interaction -> llm_request | tool -> tool.execution -> ...);
- events: an event is logged when its work ends, with its ``duration_ms``, so each request and tool is the
  interval [time - duration, time]; a request or tool inside a tool's interval belongs to that tool, and
  the prompt id gives the interaction.

Either way, a tool goes under the last request among its siblings that started before it: the request
whose answer asked for it. Span names and attributes: https://code.claude.com/docs/en/monitoring-usage
(Traces), and the OpenTelemetry GenAI conventions for Gemini CLI's ``gen_ai.*`` spans.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from ..errors import NotFound
from ..store import Store
from ..store.sqlfiles import load
from .query import RequestFilter
from .results import Timeline
from .scope import Pricing
from .source import FINAL_SETTINGS, priced_per_request

MAX_ITEMS = 20_000
NESTING_SLACK_MS = 2.0  # a subagent's request may end a clock tick after the tool that ran it
_REQUEST_OPERATIONS = {"llm_call", "chat", "generate_content", "text_completion"}


def timeline(store: Store, session_id: str, flt: RequestFilter, pricing: Pricing | None = None) -> Timeline:
    one = replace(flt, filters={**flt.filters, "session": session_id})
    head, request_params = priced_per_request(one)
    params = {**one.params(), **request_params, **(pricing or Pricing()).params(), "session": session_id,
              "limit": MAX_ITEMS}  # fmt: skip
    requests = store.rows(head + load(__package__, "timeline_requests") + FINAL_SETTINGS, params)
    spans = store.rows(load(__package__, "timeline_spans"), params)
    events = store.rows(load(__package__, "timeline_events"), params)
    if spans:
        by_request = {r["request_id"]: r for r in requests if r["request_id"]}
        # tool_use_id -> {event name: attributes}: decisions and sizes spans lack
        by_tool: defaultdict[str, dict] = defaultdict(dict)
        for e in events:
            by_tool[e["attributes"].get("tool_use_id", "")][e["event_name"]] = e["attributes"]
        return Timeline.model_construct(session=session_id, source="spans",
                                        interactions=SpanTree(spans, by_request, by_tool).interactions())  # fmt: skip
    if not requests and not events:
        raise NotFound(f"no session {session_id!r}")
    return Timeline.model_construct(session=session_id, source="events",
                                    interactions=events_timeline(requests, events))  # fmt: skip


# -- nodes -----------------------------------------------------------------------------------------


def _node(kind: str, start_ms: float, end_ms: float, **fields) -> dict:
    node = {"kind": kind, "start": _iso(start_ms), "end": _iso(end_ms),
            "duration_ms": round(max(end_ms - start_ms, 0.0), 3), **fields}  # fmt: skip
    node["_start"], node["_end"] = start_ms, end_ms
    return node


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _ms(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp() * 1000


def nest(children: list[dict]) -> tuple[list[dict], list[dict]]:
    """(requests, tools asked for by no request) of one parent: each tool under the last request that
    started at or before it."""
    requests, loose = [], []
    for node in sorted(children, key=lambda n: (n["_start"], n["_end"])):
        if node["kind"] == "request":
            node.setdefault("tools", [])
            requests.append(node)
        elif requests:
            requests[-1]["tools"].append(node)
        else:
            loose.append(node)
    return requests, loose


def _finish(node: dict) -> dict:
    """Drop the working fields, depth first."""
    node.pop("_start", None)
    node.pop("_end", None)
    for key in ("requests", "tools"):
        for child in node.get(key, ()):
            _finish(child)
    return node


def _int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _num(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _bool(value) -> bool | None:
    return {"true": True, "false": False}.get(str(value).lower()) if value not in (None, "") else None


# -- from spans ------------------------------------------------------------------------------------


def span_kind(span: dict) -> str:
    name, attrs = span["name"], span["attributes"]
    kind = attrs.get("span.type") or (name[len("claude_code.") :] if name.startswith("claude_code.") else "")
    if kind in ("interaction", "llm_request", "tool", "tool.blocked_on_user", "tool.execution"):
        return {"llm_request": "request"}.get(kind, kind)
    operation = attrs.get("gen_ai.operation.name", "")
    if operation in _REQUEST_OPERATIONS:
        return "request"
    if operation == "execute_tool":
        return "tool"
    return "other"


class SpanTree:
    def __init__(self, spans: list[dict], priced: dict[str, dict], tool_events: dict[str, dict] | None = None):
        self.priced = priced
        self.tool_events = tool_events or {}
        self.children: dict[str, list[dict]] = defaultdict(list)
        ids = {s["span_id"] for s in spans}
        self.roots = []
        for span in spans:
            span["_start"] = _ms(span["start"])
            span["_end"] = span["_start"] + span["duration_ns"] / 1e6
            if span["parent_id"] and span["parent_id"] in ids:
                self.children[span["parent_id"]].append(span)
            else:
                self.roots.append(span)

    def interactions(self) -> list[dict]:
        out, loose = [], defaultdict(list)
        for root in self.roots:
            if span_kind(root) == "interaction":
                out.append(self._interaction(root))
            else:  # a request without its interaction span (Gemini CLI; or one not exported yet): by trace
                loose[root["trace_id"]].append(root)
        for trace_id, roots in loose.items():
            nodes = [n for r in roots for n in self._nodes([r])]
            requests, tools = nest(nodes)
            start, end = min(r["_start"] for r in roots), max(r["_end"] for r in roots)
            out.append(_node("interaction", start, end, id=trace_id, trace_id=trace_id, prompt_id=None,
                             prompt_length=None, requests=requests, tools=tools))  # fmt: skip
        out.sort(key=lambda n: n["_start"])
        return [_finish(n) for n in out]

    def _interaction(self, span: dict) -> dict:
        attrs = span["attributes"]
        requests, tools = nest(self._nodes(self.children[span["span_id"]]))
        return _node("interaction", span["_start"], span["_end"], id=span["span_id"], trace_id=span["trace_id"],
                     prompt_id=attrs.get("prompt.id") or None, prompt_length=_int(attrs.get("user_prompt_length")),
                     sequence=_int(attrs.get("interaction.sequence")), requests=requests, tools=tools)  # fmt: skip

    def _nodes(self, spans: list[dict]) -> list[dict]:
        """Requests and tools among ``spans``; the children of other spans (hooks, unknown) are lifted."""
        nodes = []
        for span in spans:
            kind = span_kind(span)
            if kind == "request":
                nodes.append(self._request(span))
            elif kind == "tool":
                nodes.append(self._tool(span))
            elif kind not in ("tool.blocked_on_user", "tool.execution", "interaction"):
                nodes.extend(self._nodes(self.children[span["span_id"]]))
        return nodes

    def _request(self, span: dict) -> dict:
        a = span["attributes"]
        request_id = a.get("request_id") or a.get("gen_ai.response.id") or ""
        priced = self.priced.get(request_id, {})
        return _node(
            "request",
            span["_start"],
            span["_end"],
            model=a.get("model") or a.get("gen_ai.request.model") or "",
            request_id=request_id or None,
            agent_id=a.get("agent_id") or None,
            context=a.get("llm_request.context") or None,
            input_tokens=_int(a.get("input_tokens") or a.get("gen_ai.usage.input_tokens")),
            output_tokens=_int(a.get("output_tokens") or a.get("gen_ai.usage.output_tokens")),
            cache_read_tokens=_int(a.get("cache_read_tokens")),
            cache_creation_tokens=_int(a.get("cache_creation_tokens")),
            cost_usd=priced.get("cost_usd"),
            ttft_ms=_num(a.get("ttft_ms")),
            attempt=_int(a.get("attempt")),
            success=_bool(a.get("success")) if a.get("success") else span["status"] != "Error",
            status_code=a.get("status_code") or None,
            stop_reason=a.get("stop_reason") or None,
        )

    def _tool(self, span: dict) -> dict:
        a = span["attributes"]
        blocked = execution = None
        inner = []
        for child in self.children[span["span_id"]]:
            kind = span_kind(child)
            if kind == "tool.blocked_on_user":
                blocked = child
            elif kind == "tool.execution":
                execution = child
                inner += self._nodes(self.children[child["span_id"]])
            else:
                inner += self._nodes([child])
        requests, tools = nest(inner)
        tool_use_id = a.get("tool_use_id") or a.get("gen_ai.tool.call.id") or ""
        # The blocked_on_user span may say "unknown" (Claude Code 2.1.197): the tool_decision event knows.
        b = {k: v for k, v in (blocked["attributes"] if blocked else {}).items() if v != "unknown"}
        logged = self.tool_events.get(tool_use_id, {}) if tool_use_id else {}
        decided, result = logged.get("tool_decision", {}), logged.get("tool_result", {})
        return _node(
            "tool",
            span["_start"],
            span["_end"],
            name=a.get("tool_name") or a.get("gen_ai.tool.name") or "",
            tool_use_id=tool_use_id or None,
            agent_id=a.get("agent_id") or None,
            subagent_type=a.get("subagent_type") or None,
            success=_bool(execution["attributes"].get("success")) if execution else None,
            decision=b.get("decision") or decided.get("decision") or None,
            decision_source=b.get("source") or decided.get("source") or None,
            blocked_on_user_ms=round(blocked["_end"] - blocked["_start"], 3) if blocked else None,
            execution_ms=round(execution["_end"] - execution["_start"], 3) if execution else None,
            input_bytes=_int(result.get("tool_input_size_bytes")),
            result_bytes=_int(result.get("tool_result_size_bytes")),
            requests=requests,
            tools=tools,
        )


# -- from events -----------------------------------------------------------------------------------


def events_timeline(requests: list[dict], events: list[dict]) -> list[dict]:
    """The same tree from the session's requests and events: intervals nested by containment."""
    items: dict[str, list[dict]] = defaultdict(list)
    prompts: dict[str, dict] = {}
    decisions = {e["attributes"].get("tool_use_id"): e for e in events if e["event_name"] == "tool_decision"}
    ran = set()
    for r in requests:
        end = _ms(r["timestamp"])
        items[r["prompt_id"]].append(_request_node(r, end))
    for e in events:
        a, end = e["attributes"], _ms(e["timestamp"])
        if e["event_name"] == "user_prompt":
            prompts.setdefault(e["prompt_id"], {"start": end, "length": _int(a.get("prompt_length"))})
        elif e["event_name"] == "tool_result":
            ran.add(a.get("tool_use_id"))
            items[e["prompt_id"]].append(_tool_node(a, end - (_num(a.get("duration_ms")) or 0), end,
                                                    decisions.get(a.get("tool_use_id"))))  # fmt: skip
        elif e["event_name"] == "api_error":
            start = end - (_num(a.get("duration_ms")) or 0)
            items[e["prompt_id"]].append(_node("request", start, end, model=a.get("model", ""),
                                               request_id=a.get("request_id") or None, success=False,
                                               attempt=_int(a.get("attempt")), status_code=a.get("status_code") or None,
                                               error=a.get("error") or None))  # fmt: skip
    for tool_use_id, e in decisions.items():
        if tool_use_id not in ran:  # refused, or never finished: a tool that did not run
            end = _ms(e["timestamp"])
            items[e["prompt_id"]].append(_tool_node(e["attributes"], end, end, e, ran=False))
    out = []
    for prompt_id in set(items) | set(prompts):
        nodes = items.get(prompt_id, [])
        requests_, tools = nest(_contain(nodes))
        start = prompts.get(prompt_id, {}).get("start", min((n["_start"] for n in nodes), default=0.0))
        end = max([n["_end"] for n in nodes] + [start])
        out.append(
            _node(
                "interaction",
                min([start] + [n["_start"] for n in nodes]),
                end,
                id=prompt_id or None,
                trace_id=None,
                prompt_id=prompt_id or None,
                prompt_length=prompts.get(prompt_id, {}).get("length"),
                requests=requests_,
                tools=tools,
            )
        )
    out.sort(key=lambda n: n["_start"])
    return [_finish(n) for n in out]


def _contain(nodes: list[dict]) -> list[dict]:
    """The top level of ``nodes``, each tool holding (nested) the requests and tools inside its interval."""
    top: list[dict] = []
    open_tools: list[dict] = []
    inside: dict[int, list[dict]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: (n["_start"], -n["_end"])):
        while open_tools and open_tools[-1]["_end"] < node["_start"]:
            open_tools.pop()
        if open_tools and node["_end"] <= open_tools[-1]["_end"] + NESTING_SLACK_MS:
            inside[id(open_tools[-1])].append(node)
        else:
            top.append(node)
        if node["kind"] == "tool":
            open_tools.append(node)
    for node in nodes:
        if node["kind"] == "tool":
            node["requests"], node["tools"] = nest(inside.get(id(node), []))
    return top


def _request_node(r: dict, end: float) -> dict:
    return _node("request", end - (r["duration_ms"] or 0), end, model=r["model"], request_id=r["request_id"] or None,
                 agent_id=None, context=r["query_source"] or None, input_tokens=int(r["input_tokens"]),
                 output_tokens=int(r["output_tokens"]), cache_read_tokens=int(r["cache_read_tokens"]),
                 cache_creation_tokens=int(r["cache_creation_tokens"]), cost_usd=r["cost_usd"], ttft_ms=None,
                 attempt=None, success=True, status_code=None, stop_reason=None)  # fmt: skip


def _tool_node(a: dict, start: float, end: float, decision: dict | None, ran: bool = True) -> dict:
    d = decision["attributes"] if decision else {}
    return _node("tool", start, end, name=a.get("tool_name", ""), tool_use_id=a.get("tool_use_id") or None,
                 agent_id=None, subagent_type=None, success=_bool(a.get("success")) if ran else None,
                 decision=d.get("decision") or a.get("decision_type") or None,
                 decision_source=d.get("source") or a.get("decision_source") or None, blocked_on_user_ms=None,
                 execution_ms=None, input_bytes=_int(a.get("tool_input_size_bytes")),
                 result_bytes=_int(a.get("tool_result_size_bytes")), requests=[], tools=[])  # fmt: skip
