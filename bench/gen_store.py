"""Generate a store of N model requests straight into the tables (request_copies), as if they had arrived
one by one, then build the hourly rollup from them: the 1M- and 10M-request stores the report benchmark
reads. Sessions are runs of consecutive requests a few seconds apart, spread over `--days` days, with the
models, agents, users and projects of a team. Times have milliseconds, as the agents' are (a store of whole
seconds has a request exactly on the hour in one hour of ~7, which the blocks report must then read again).

    .venv/bin/python bench/gen_store.py --requests 1000000 --data-dir /tmp/cct-1m
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cctelemetry.bootstrap import open_store, prepare
from cctelemetry.config import Settings
from cctelemetry.ingest import facts

INSERT = """
INSERT INTO request_copies
    (timestamp, agent_product, service_name, session_id, request_id, request_key, user_id, user_email, model, agent,
     query_source, speed, project, git_branch, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
     cache_split_known, reported_cost_usd, duration_ms, source, source_priority, resource_attributes, version)
SELECT
    toDateTime64('2026-01-01 00:00:00', 3, 'UTC')
        + toIntervalSecond(intDiv(s * 7919, 1) % ({days:UInt32} * 86400) + (number % {per:UInt64}) * 13)
        + toIntervalMillisecond(1 + (number * 7919) % 999) AS timestamp,
    if(s % 10 < 8, 'claude_code', if(s % 10 = 8, 'codex', 'gemini_cli')),
    'claude-code',
    concat('sess-', toString(s)),
    concat('req_', toString(number)),
    concat('req_', toString(number)),
    concat('user-', toString(s % 23)),
    concat('dev', toString(s % 23), '@example.com'),
    arrayElement(['claude-sonnet-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'gpt-5-codex',
                  'gemini-2.5-pro'], 1 + (number % 6)),
    arrayElement(['main', 'main', 'sdk', 'Explore', 'generate_session_title'], 1 + (number % 5)),
    'repl_main_thread',
    if(number % 50 = 0, 'fast', ''),
    concat('/home/dev/proj-', toString(s % 37)),
    'main',
    10 + number % 5000, 50 + number % 3000, number % 250000, number % 20000,
    toUInt8(number % 3 = 0),
    if(s % 10 < 8, (number % 997) / 10000.0, NULL),
    1000 + number % 9000,
    'otel', 2,
    map('team', concat('team-', toString(s % 5)), 'host.name', concat('host-', toString(s % 11))),
    1
FROM (SELECT number, intDiv(number, {per:UInt64}) AS s FROM numbers({offset:UInt64}, {n:UInt64}))
SETTINGS max_partitions_per_insert_block = 0
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--per-session", type=int, default=330, help="requests per session")
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--data-dir", type=Path, required=True)
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir, clickhouse_url="", migrate_on_start=True)
    store = open_store(settings, create=True)
    prepare(store, settings)
    t0 = time.perf_counter()
    step = 2_000_000
    for offset in range(0, args.requests, step):
        store.command(INSERT, {"days": args.days, "per": args.per_session, "offset": offset,
                               "n": min(step, args.requests - offset)})  # fmt: skip
    inserted = time.perf_counter() - t0
    facts.rebuild_rollup(store)
    store.command("OPTIMIZE TABLE usage_hourly FINAL")
    store.command("OPTIMIZE TABLE usage_daily FINAL")
    rows = store.scalar("SELECT count() FROM usage_hourly")
    days = store.scalar("SELECT count() FROM usage_daily")
    print(
        f"{args.requests:,} requests in {inserted:.1f} s; rollups of {rows:,} hourly and {days:,} daily rows in "
        f"{time.perf_counter() - t0 - inserted:.1f} s"
    )
    store.close()


if __name__ == "__main__":
    main()
