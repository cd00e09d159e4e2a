"""Fakes of the OpenAI Responses API (for Codex CLI) and the Gemini API (for Gemini CLI), stdlib only, on
127.0.0.1 (port 0 = any free port), for the end-to-end tests.

Every model call gets usage of its own (the n-th call's numbers differ from the others', as a real
conversation's do) and is recorded in ``calls`` with that usage, so a test can compute the totals it
expects. Anything else is answered minimally (Codex's GET /models, Gemini's countTokens) or 404.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def openai_usage(n: int) -> dict:
    """Responses API usage of the n-th call (https://platform.openai.com/docs/api-reference/responses/object):
    input includes the cached tokens, output includes the reasoning tokens."""
    inp, cached, out, reasoning = 2345 + 111 * n, 1200 + 64 * n, 432 + 3 * n, 100 + n
    return {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached}, "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": reasoning}, "total_tokens": inp + out}  # fmt: skip


def gemini_usage(n: int) -> dict:
    """usageMetadata of the n-th call (https://ai.google.dev/api/generate-content#UsageMetadata): the prompt
    includes the cached tokens; thoughts are apart from candidates."""
    prompt, cached, candidates, thoughts = 3456 + 101 * n, 1500 + 32 * n, 210 + 5 * n, 100 + 2 * n
    return {"promptTokenCount": prompt, "cachedContentTokenCount": cached, "candidatesTokenCount": candidates,
            "thoughtsTokenCount": thoughts, "totalTokenCount": prompt + candidates + thoughts}  # fmt: skip


@dataclass
class Call:
    path: str
    model: str | None
    usage: dict = field(default_factory=dict)  # {} for calls that are not model calls


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        out = b""
        while True:
            line = h.rfile.readline().strip()
            size = int(line.split(b";")[0], 16) if line else 0
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return out
            out += h.rfile.read(size)
            h.rfile.readline()
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n else b""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _json(self, code: int, obj: dict) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, chunks: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for chunk in chunks:
            self.wfile.write(chunk.encode())
            self.wfile.flush()

    def _record(self, call: Call) -> int:
        with self.server.lock:
            self.server.calls.append(call)
            return sum(1 for c in self.server.calls if c.usage)

    def do_GET(self):
        if self.path.split("?")[0].endswith("/models"):
            return self._json(200, {"object": "list", "data": [], "models": []})
        self._json(404, {"error": {"message": "fake: not found"}})

    def do_POST(self):
        try:
            body = json.loads(_read_body(self) or b"{}")
        except ValueError:
            body = {}
        self.server.answer(self, self.path.split("?")[0], body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, answer):
        super().__init__(addr, _Handler)
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.answer = answer


def _openai(h: _Handler, path: str, body: dict) -> None:
    if not path.endswith("/responses"):
        h._record(Call(path, None))
        return h._json(404, {"error": {"message": "fake: not found"}})
    model = body.get("model", "gpt-fake")
    with h.server.lock:
        n = sum(1 for c in h.server.calls if c.usage) + 1
        usage = openai_usage(n)
        h.server.calls.append(Call(path, model, usage))
    rid, mid = "resp_fake" + uuid.uuid4().hex[:16], "msg_fake" + uuid.uuid4().hex[:16]
    text = f"Hi! (fake OpenAI Responses answer for {model})"
    done = {"type": "message", "id": mid, "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip
    final = {"id": rid, "object": "response", "model": model, "status": "completed", "output": [done], "usage": usage}
    if not body.get("stream"):
        return h._json(200, final)
    events = [
        {"type": "response.created", "response": dict(final, status="in_progress", output=[], usage=None)},
        {"type": "response.output_item.added", "output_index": 0, "item": dict(done, status="in_progress", content=[])},
        {"type": "response.output_text.delta", "item_id": mid, "output_index": 0, "content_index": 0, "delta": text},
        {"type": "response.output_text.done", "item_id": mid, "output_index": 0, "content_index": 0, "text": text},
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        {"type": "response.completed", "response": final},
    ]
    h._sse([f"event: {e['type']}\ndata: {json.dumps(dict(e, sequence_number=i))}\n\n" for i, e in enumerate(events)])


def _gemini(h: _Handler, path: str, body: dict) -> None:
    model = path.split("/models/")[-1].split(":")[0] if "/models/" in path else None
    if path.endswith(":countTokens"):
        h._record(Call(path, model))
        return h._json(200, {"totalTokens": 42})
    if not path.endswith((":generateContent", ":streamGenerateContent")):
        h._record(Call(path, model))
        return h._json(404, {"error": {"code": 404, "message": "fake: not found", "status": "NOT_FOUND"}})
    with h.server.lock:
        n = sum(1 for c in h.server.calls if c.usage) + 1
        usage = gemini_usage(n)
        h.server.calls.append(Call(path, model, usage))
    config = body.get("generationConfig") or {}
    if config.get("responseMimeType") == "application/json" or config.get("responseJsonSchema"):
        text = json.dumps(_from_schema(config.get("responseJsonSchema") or config.get("responseSchema") or {}))
    else:
        text = f"Hi! (fake Gemini answer for {model})"
    resp = {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": f"fakeresp{n:03d}",
    }
    if path.endswith(":generateContent"):
        return h._json(200, resp)
    h._sse([f"data: {json.dumps(resp)}\r\n\r\n"])


def _from_schema(s):
    """A value of a JSON schema's shape (Gemini CLI asks for JSON in some internal calls)."""
    if not isinstance(s, dict):
        return "fake"
    if s.get("enum"):
        return s["enum"][0]
    t = (s.get("type") or "").lower()
    if t == "object" or "properties" in s:
        return {k: _from_schema(v) for k, v in (s.get("properties") or {}).items()}
    return [] if t == "array" else 0 if t in ("integer", "number") else False if t == "boolean" else "fake"


class _Fake:
    answer = None
    name = "fake"

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._server = _Server((host, port), type(self).answer)
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def model_calls(self) -> list[Call]:
        with self._server.lock:
            return [c for c in self._server.calls if c.usage]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class FakeOpenAI(_Fake):
    answer = staticmethod(_openai)
    name = "fake-openai"


class FakeGemini(_Fake):
    answer = staticmethod(_gemini)
    name = "fake-gemini"
