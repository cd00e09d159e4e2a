"""What the receiver keeps of a request: one policy, applied by ``outcome.map_request`` for every transport
(OTLP/HTTP, OTLP/gRPC) to the mapped rows' attribute maps, before anything is written.

- **Size.** At most ``max_items`` log records, spans or data points in one request (over it: 413, or gRPC
  RESOURCE_EXHAUSTED, as for too many bytes). At most ``max_attributes`` attributes in one attribute map
  (the rest dropped, in key order) and ``max_value_length`` characters in one value or log body (longer ones
  cut to it); an attribute key that long is dropped. Over the count, the attributes the service reads
  (``KEEP_FIRST``: session, event, user, model, tokens, tools) are kept first. Each drop and cut is counted and told
  to the client as OTLP partial success (0 rejected, the counts in ``error_message``), and the row is marked with the
  attribute ``cctelemetry.truncated`` (how many values of that row were cut or dropped). 0 turns a limit off.
- **Content.** Unless ``store_prompts``, what people typed and what tools were given is not stored, whatever
  the agent was told to send (Claude Code's ``OTEL_LOG_USER_PROMPTS``, ``OTEL_LOG_TOOL_DETAILS``,
  ``OTEL_LOG_RAW_API_BODIES``; Gemini CLI logs prompts by default): prompt and response text become
  ``<REDACTED>``, as Claude Code sends them by default; tool inputs, raw API bodies and the GenAI message
  attributes are removed; the command line in a tool's ``tool_parameters`` is removed. Lengths stay.
- **Emails.** With ``hash_emails``, ``user.email`` becomes ``sha256:`` and the first 16 hex digits of the
  SHA-256 of the salt and the address in lower case: still one value per person, for the ``user`` dimension.

It only looks at maps whose size or keys call for it (``max`` over the values' lengths and a key-set
intersection run in C), so a request within the limits costs a few dict operations per row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from ..errors import PayloadTooLarge
from .mapping import TABLE_COLUMNS

REDACTED = "<REDACTED>"
MARK = "cctelemetry.truncated"

# Text people typed or the model wrote: kept as a marker, as the agents send it when told not to log it.
REDACT_KEYS = frozenset({
    "prompt",            # claude_code.user_prompt, gemini_cli.user_prompt, codex.user_prompt
    "response",          # claude_code.assistant_response (OTEL_LOG_ASSISTANT_RESPONSES)
    "user_prompt",       # the claude_code.interaction span
    "request_text",      # gemini_cli.api_request
    "response_text",     # gemini_cli.api_response
})  # fmt: skip
# Tool inputs and outputs, raw bodies, GenAI message content: removed.
DROP_KEYS = frozenset({
    "tool_input",        # claude_code.tool_result (OTEL_LOG_TOOL_DETAILS)
    "full_command",      # the claude_code.tool span of Bash
    "body",              # claude_code.api_request_body / api_response_body (OTEL_LOG_RAW_API_BODIES)
    "function_args",     # gemini_cli.tool_call
    "arguments", "output",  # codex.tool_result
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "gen_ai.prompt",
    "gen_ai.completion", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
})  # fmt: skip
CONTENT_KEYS = REDACT_KEYS | DROP_KEYS | {"tool_parameters"}
# Kept first when a map has more attributes than allowed: what the materialized views and reports read
# (sessions, events, requests and their tokens, tools, attribution), then the others in key order.
KEEP_FIRST = frozenset({
    "service.name", "session.id", "conversation.id", "gen_ai.conversation.id", "event.name", "event.sequence",
    "event.timestamp", "event.kind", "prompt.id", "prompt_id", "user.id", "user.email", "user.account_uuid",
    "user.account_id", "organization.id", "installation.id", "deployment.environment.name", "terminal.type",
    "app.version", "app.entrypoint", "originator", "role", "model", "request_id", "query_source", "agent.name",
    "agent_id", "speed", "effort", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
    "cost_usd", "cost_usd_micros", "input_token_count", "output_token_count", "cached_token_count",
    "cached_content_token_count", "cache_write_token_count", "reasoning_token_count", "thoughts_token_count",
    "tool_token_count", "duration_ms", "attempt", "status_code", "error", "success", "total_attempts",
    "total_retry_duration_ms", "tool_name", "tool_use_id", "decision", "source", "decision_source",
    "decision_type", "tool_input_size_bytes", "tool_result_size_bytes", "tool_parameters", "language", "type",
    "start_type", "prompt_length", "span.type", "gen_ai.operation.name", "gen_ai.request.model",
    "gen_ai.response.id", "user_prompt_length", "interaction.sequence", "skill.name", "plugin.name",
    "marketplace.name", "mcp_server.name", "mcp_tool.name", "agent_type", "subagent_type", MARK,
})  # fmt: skip
# In Claude Code's tool_parameters (a JSON object): the Bash command line and its description.
TOOL_PARAMETER_DROPS = ("full_command", "description")


def _at(table: str, *names: str) -> tuple[int, ...]:
    return tuple(TABLE_COLUMNS[table].index(n) for n in names if n in TABLE_COLUMNS[table])


# Per raw table (mapping.py): columns holding one attribute map, a list of maps, a string to limit, and the
# row's own attribute map (where its mark goes).
_MAPS = {t: _at(t, "ResourceAttributes", "ScopeAttributes", "LogAttributes", "SpanAttributes", "Attributes")
         for t in TABLE_COLUMNS}  # fmt: skip
_MAP_LISTS = {t: _at(t, "Events.Attributes", "Links.Attributes", "Exemplars.FilteredAttributes") for t in TABLE_COLUMNS}
_STRINGS = {t: _at(t, "Body") for t in TABLE_COLUMNS}
_OWN = {t: _at(t, "LogAttributes", "SpanAttributes", "Attributes")[0] for t in TABLE_COLUMNS}

# Times the store can hold: DateTime64(9) is an Int64 of nanoseconds (to 2262-04-11), the metrics' DateTime
# a UInt32 of seconds (to 2106-02-07). A row past them would fail the whole insert it is written in, every
# other client's rows of that flush included, and fail again on every retry: it is rejected instead.
_MAX_NS, _MAX_S = 2**63 - 1, 2**32 - 1
_TIMES = {t: [(i, _MAX_NS) for i in _at(t, "Timestamp")] + [(i, _MAX_S) for i in _at(t, "StartTimeUnix", "TimeUnix")]
          for t in TABLE_COLUMNS}  # fmt: skip
_TIME_LISTS = {
    t: [(i, _MAX_NS) for i in _at(t, "Events.Timestamp")] + [(i, _MAX_S) for i in _at(t, "Exemplars.TimeUnix")]
    for t in TABLE_COLUMNS
}


@dataclass(frozen=True)
class IngestPolicy:
    max_items: int = 100_000
    max_attributes: int = 128
    max_value_length: int = 16_384
    store_prompts: bool = False
    hash_emails: bool = False
    email_salt: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings) -> IngestPolicy:
        return cls(max_items=min(settings.max_items_per_request or settings.write_queue_rows,
                                 settings.write_queue_rows),  # a body the queue cannot hold would never fit
                   max_attributes=settings.max_attributes, max_value_length=settings.max_attribute_length,
                   store_prompts=settings.store_prompts, hash_emails=settings.hash_emails,
                   email_salt=settings.email_hash_salt.get_secret_value())  # fmt: skip

    @property
    def changes_nothing(self) -> bool:
        return not self.max_attributes and not self.max_value_length and self.store_prompts and not self.hash_emails


@dataclass
class Counts:
    rejected: int = 0  # rows (log records, spans, data points) not written: times the store cannot hold
    truncated: int = 0  # values cut to max_value_length
    dropped: int = 0  # attributes over max_attributes, or keys over max_value_length
    redacted: int = 0  # content attributes redacted or removed

    def message(self, policy: IngestPolicy) -> str:
        parts = []
        if self.rejected:
            parts.append(f"{self.rejected} rejected: a time past what can be stored (2262-04-11 for logs and "
                         "spans, 2106-02-07 for metric points)")  # fmt: skip
        if self.truncated:
            parts.append(f"{self.truncated} attribute value(s) or body(ies) cut to {policy.max_value_length} "
                         "characters (CCTELEMETRY_MAX_ATTRIBUTE_LENGTH)")  # fmt: skip
        if self.dropped:
            parts.append(f"{self.dropped} attribute(s) dropped over {policy.max_attributes} per map "
                         "(CCTELEMETRY_MAX_ATTRIBUTES) or with a key that long")  # fmt: skip
        return "; ".join(parts)


def count_items(signal: str, request) -> int:
    """Log records, spans or data points in an export request, without mapping it."""
    if signal == "logs":
        return sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
    if signal == "traces":
        return sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    total = 0
    for r in request.resource_metrics:
        for s in r.scope_metrics:
            for m in s.metrics:
                kind = m.WhichOneof("data")
                total += len(getattr(m, kind).data_points) if kind else 0
    return total


def check_size(signal: str, request, policy: IngestPolicy) -> None:
    if policy.max_items:
        n = count_items(signal, request)
        if n > policy.max_items:
            raise PayloadTooLarge(f"{n} {_ITEM_NAMES[signal]} in one request; at most {policy.max_items} "
                                  "(CCTELEMETRY_MAX_ITEMS_PER_REQUEST): send smaller batches")  # fmt: skip


_ITEM_NAMES = {"logs": "log records", "traces": "spans", "metrics": "data points"}


def apply(batch: dict[str, list[list]], policy: IngestPolicy) -> Counts:
    """Apply the policy to the rows in place; what it cut, dropped and redacted."""
    counts = Counts()
    _reject_unstorable_times(batch, counts)
    if policy.changes_nothing:
        return counts
    seen: set[int] = set()  # resource and scope maps are shared by the rows of one resource or scope
    for table, rows in batch.items():
        maps, lists, strings, own = _MAPS[table], _MAP_LISTS[table], _STRINGS[table], _OWN[table]
        for row in rows:
            cut = 0
            for i in maps:
                if id(row[i]) not in seen:
                    seen.add(id(row[i]))
                    cut += _limit_map(row[i], policy, counts)
            for i in lists:
                for m in row[i]:
                    cut += _limit_map(m, policy, counts)
            for i in strings:
                if policy.max_value_length and len(row[i]) > policy.max_value_length:
                    row[i] = row[i][: policy.max_value_length]
                    counts.truncated += 1
                    cut += 1
            if cut:
                row[own] = {**row[own], MARK: str(cut)}
    return counts


def _reject_unstorable_times(batch: dict[str, list[list]], counts: Counts) -> None:
    for table in list(batch):
        rows, times, lists = batch[table], _TIMES[table], _TIME_LISTS[table]
        if not any(row[i] > limit for row in rows for i, limit in times) and not any(
                t > limit for row in rows for i, limit in lists for t in row[i]):  # fmt: skip
            continue
        kept = [row for row in rows if all(row[i] <= limit for i, limit in times)
                and all(t <= limit for i, limit in lists for t in row[i])]  # fmt: skip
        counts.rejected += len(rows) - len(kept)
        if kept:
            batch[table] = kept
        else:
            del batch[table]


def _limit_map(m: dict[str, str], policy: IngestPolicy, counts: Counts) -> int:
    """Limit one attribute map in place; how many of its values were cut or dropped."""
    if not m:
        return 0
    if not policy.store_prompts and not m.keys().isdisjoint(CONTENT_KEYS):
        _strip_content(m, counts)
    if policy.hash_emails and "user.email" in m:
        m["user.email"] = hash_email(m["user.email"], policy.email_salt)
    cut = 0
    limit = policy.max_value_length
    if limit and m and (max(map(len, m.values())) > limit or max(map(len, m.keys())) > limit):
        for key in list(m):
            if len(key) > limit:
                del m[key]
                counts.dropped += 1
                cut += 1
            elif len(m[key]) > limit:
                m[key] = m[key][:limit]
                counts.truncated += 1
                cut += 1
    if policy.max_attributes and len(m) > policy.max_attributes:
        order = [k for k in m if k in KEEP_FIRST] + [k for k in m if k not in KEEP_FIRST]
        for key in order[policy.max_attributes :]:
            del m[key]
            counts.dropped += 1
            cut += 1
    return cut


def _strip_content(m: dict[str, str], counts: Counts) -> None:
    for key in REDACT_KEYS.intersection(m):
        if m[key] != REDACTED:
            m[key] = REDACTED
            counts.redacted += 1
    for key in DROP_KEYS.intersection(m):
        del m[key]
        counts.redacted += 1
    params = m.get("tool_parameters")
    if params and any(k in params for k in TOOL_PARAMETER_DROPS):
        try:
            parsed = json.loads(params)
        except ValueError:
            return
        if isinstance(parsed, dict):
            m["tool_parameters"] = json.dumps({k: v for k, v in parsed.items() if k not in TOOL_PARAMETER_DROPS},
                                              separators=(",", ":"), ensure_ascii=False)  # fmt: skip
            counts.redacted += 1


def hash_email(email: str, salt: str = "") -> str:
    if not email or email.startswith("sha256:"):
        return email
    digest = hashlib.sha256((salt + email.strip().lower()).encode()).hexdigest()
    return f"sha256:{digest[:16]}"
