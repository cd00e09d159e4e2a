"""The whole service (OTLP receiver, writer, reports) over the HTTP backend gives the embedded totals."""

from cctelemetry.config import Settings
from conftest import api_client, make_state, post_fixtures


def test_replayed_fixtures_report_the_same_over_http(server_store, database, replayed_client):
    settings = Settings(database=database, tz="UTC", write_flush_ms=5)
    with api_client(make_state(server_store, settings)) as client:
        assert post_fixtures(client) > 20
        for group_by in ("session", "model,agent", "day"):
            over_http = client.get("/api/v1/usage", params={"group_by": group_by}).json()
            embedded = replayed_client.get("/api/v1/usage", params={"group_by": group_by}).json()
            assert over_http["rows"] == embedded["rows"] and over_http["totals"] == embedded["totals"]
        sessions = client.get("/api/v1/sessions").json()["rows"]
        assert len(sessions) == 11
        assert client.get("/healthz").json()["store"].startswith("http://writer@127.0.0.1:")
