"""Where the CLI gets its data: the running service's API when one answers, else the data itself.

Only one process can open an embedded data folder, so while ``cctelemetry serve`` runs the CLI must
go through its API. Both sources return the same JSON bodies.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..config import Settings
from ..errors import TelemetryError


class ApiSource:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=60)

    def get(self, path: str, params: dict[str, Any]) -> dict:
        return self._check(self.http.get(path, params={k: v for k, v in params.items() if v is not None}))

    def post(self, path: str, body: dict, params: dict | None = None) -> dict:
        return self._check(self.http.post(path, json=body, params=params or {}))

    @staticmethod
    def _check(response: httpx.Response) -> dict:
        if response.status_code >= 400:
            try:
                message = response.json().get("error") or response.text
            except ValueError:
                message = response.text
            error = TelemetryError(f"{message} (HTTP {response.status_code})")
            error.status = response.status_code
            raise error
        return response.json()

    def describe(self) -> str:
        return f"service at {self.base_url}"


class LocalSource:
    """Runs the same report functions the API runs, in this process."""

    def __init__(self, settings: Settings):
        from ..api.app import create_app
        from ..api.state import ServiceState
        from fastapi.testclient import TestClient

        self.settings = settings
        self.state = ServiceState.open(settings, serving=False)
        self.client = TestClient(create_app(settings, self.state), raise_server_exceptions=True)

    def get(self, path: str, params: dict[str, Any]) -> dict:
        return ApiSource._check(self.client.get(path, params={k: v for k, v in params.items() if v is not None}))

    def post(self, path: str, body: dict, params: dict | None = None) -> dict:
        return ApiSource._check(self.client.post(path, json=body, params=params or {}))

    def describe(self) -> str:
        return f"data in {self.state.store.target.describe()}"


def service_answers(url: str) -> bool:
    try:
        return httpx.get(url.rstrip("/") + "/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def open_source(settings: Settings, api_url: str | None = None):
    url = api_url or settings.resolved_api_url()
    if api_url or service_answers(url):
        return ApiSource(url)
    return LocalSource(settings)
