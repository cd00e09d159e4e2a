"""The soak's short version (``make soak`` runs it for 10 minutes): bench/soak.py for 25 s at 2,000 events/s against a
real ``cctelemetry serve``, with reports, the dashboard's queries and a transcript import at the same time. Its
checks must hold: count in = count stored, every transcript copy merged, nothing twice, only 200/429/503
answered, RSS flat after the warm-up. (The rate achieved and the latencies depend on the machine: printed, not
asserted.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[1] / "bench" / "soak.py"


@pytest.mark.slow
def test_short_soak_holds_its_checks():
    out = subprocess.run([sys.executable, str(SOAK), "--seconds", "25", "--sample-s", "2", "--json"],
                         capture_output=True, text=True, timeout=280)  # fmt: skip
    print(out.stderr)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"], {k: v for k, v in result.items() if k not in ("rss_mib", "latency")}
    assert result["events_acked"] > 10_000
    assert result["requests_stored"] == result["requests_expected"]
    assert result["imports"] >= 3 and result["transcript_copies_merged"] > 0
    assert len(result["rss_mib"]) >= 10
