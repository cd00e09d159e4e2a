"""A webhook receiver on 127.0.0.1 (a free port): records every POST's JSON body, answers with the statuses it is
given in turn (then 200), optionally after a delay."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookListener:
    def __init__(self, statuses: list[int] | None = None, delay_s: float = 0.0):
        self.received: list[dict] = []
        self.arrived = threading.Event()  # a request has arrived (set before any delay)
        self.statuses = list(statuses or [])
        self.delay_s = delay_s
        self._lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with listener._lock:
                    listener.received.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                              "body": json.loads(body)})  # fmt: skip
                    status = listener.statuses.pop(0) if listener.statuses else 200
                listener.arrived.set()
                if listener.delay_s:
                    time.sleep(listener.delay_s)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookListener:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        return list(self.received)
