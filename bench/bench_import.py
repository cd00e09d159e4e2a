"""Benchmark: ``cctelemetry import`` next to ccusage 20.0.24 on the same transcripts, as whole processes,
then the report latency over the imported data.

    python bench/bench_import.py [--corpus DIR] [--size-mb 1024] [--runs 3] [--json results.json]

1. The corpus: ``DIR/projects`` (written by bench/gen_corpus.py when absent; deterministic).
2. Per run, alternating to spread machine noise, each a separate process timed with ``os.wait4``
   (wall clock, user+system CPU, peak RSS of the process and its children):
   - ccusage: ``ccusage claude session --offline --json`` with ``CLAUDE_CONFIG_DIR=DIR``;
   - first import: ``cctelemetry import DIR/projects --json`` into a fresh data folder;
   - re-import with nothing new: the same command again.
   The page cache is warmed (every file read once) before the runs, so all read from memory.
3. The totals of both tools are compared (tokens per type must be equal, else the figures mean nothing).
4. The same two imports through a running ``cctelemetry serve`` (fresh data folder; the CLI process is
   timed, it only asks the service), then on that service p50/p95 of ``GET /api/v1/usage?group_by=day``
   and ``group_by=session`` (warm-up requests first, then ``--requests`` of each), answered from the
   service's report cache; then the same with ``CCTELEMETRY_REPORT_CACHE=0``, computed every time.

Targets (docs/import.md): first import <= 1/3 of ccusage's time; re-import < 1 s; each report < 100 ms p95.
Needs npm for ccusage (scripts/install-ccusage.sh) and the venv of this repository.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PY = REPO / ".venv" / "bin" / "python"
CCUSAGE = REPO / ".tools" / "ccusage" / "node_modules" / ".bin" / "ccusage"
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_timed(cmd: list[str], env: dict) -> dict:
    """One process: wall seconds, and from wait4 its own user+system CPU seconds and peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))
    reader.start()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    reader.join()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped here; keep Popen from waiting again
    if code != 0:
        msg = b"".join(err_chunks).decode(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({code}): {msg}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": usage.ru_maxrss / 1024, "out": out}


def warm(projects: Path) -> int:
    n = 0
    for path in projects.rglob("*.jsonl"):
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                n += len(chunk)
    return n


def ccusage_totals(body: dict) -> dict:
    t = body["totals"]
    return {"input": t["inputTokens"], "output": t["outputTokens"], "cache_read": t["cacheReadTokens"],
            "cache_write": t["cacheCreationTokens"], "cost_usd": t["totalCost"]}  # fmt: skip


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


@contextlib.contextmanager
def serving(data_dir: Path, env: dict):
    """``cctelemetry serve`` on ``data_dir`` until the block ends; yields its API base URL."""
    import httpx

    data_dir.mkdir(parents=True, exist_ok=True)
    api_port, otlp_port = free_port(), free_port()
    cmd = [str(REPO / ".venv" / "bin" / "cctelemetry"), "serve", "--data-dir", str(data_dir),
           "--api-port", str(api_port), "--otlp-port", str(otlp_port), "--grpc-port", "0", "--metrics-port", "0"]  # fmt: skip
    log = open(data_dir.parent / f"serve-{data_dir.name}.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise SystemExit(f"cctelemetry serve exited ({proc.returncode}); see {log.name}")
            time.sleep(0.2)
        else:
            raise SystemExit("cctelemetry serve did not answer /healthz within 120 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def measure_reports(base: str, requests: int) -> dict:
    """The usage totals, and p50/p95 of GET /api/v1/usage by day and by session (after a warm-up)."""
    import httpx

    out = {}
    with httpx.Client(base_url=base, timeout=60) as http:
        out["totals"] = http.get("/api/v1/usage").json()["totals"]
        for group_by in ("day", "session"):
            for _ in range(5):  # warm-up
                http.get("/api/v1/usage", params={"group_by": group_by}).raise_for_status()
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                r = http.get("/api/v1/usage", params={"group_by": group_by})
                times.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
            out[group_by] = {"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95), "rows": len(r.json()["rows"]),
                             "requests": requests}  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO / ".bench" / "corpus", help="a CLAUDE_CONFIG_DIR")
    ap.add_argument("--size-mb", type=float, default=1024, help="corpus size when it has to be generated")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=50, help="report requests per group_by for the latency")
    ap.add_argument("--work", type=Path, default=None, help="where data folders go (default: a temp folder)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)

    projects = args.corpus / "projects"
    if not projects.is_dir():
        print(f"writing a {args.size_mb:g} MiB corpus to {args.corpus} ...", file=sys.stderr)
        subprocess.run([str(VENV_PY), str(REPO / "bench" / "gen_corpus.py"), str(args.corpus),
                        "--size-mb", str(args.size_mb)], check=True)  # fmt: skip
    if not CCUSAGE.exists():
        subprocess.run([str(REPO / "scripts" / "install-ccusage.sh")], check=True)

    work = Path(tempfile.mkdtemp(prefix="cctelemetry-bench-", dir=args.work))
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCTELEMETRY_", "CLAUDE_", "XDG_CONFIG"))}
    cc_env = {**env, "CLAUDE_CONFIG_DIR": str(args.corpus), "HOME": str(home), "NO_COLOR": "1"}
    # no service may answer on the default API port during the import: force the in-process path
    ct_env = {**env, "CCTELEMETRY_API_PORT": str(free_port()), "HOME": str(home)}
    ct_cmd = [str(REPO / ".venv" / "bin" / "cctelemetry"), "import"]

    size = warm(projects)
    files = sum(1 for _ in projects.rglob("*.jsonl"))
    print(f"corpus: {size / 2**20:,.0f} MiB in {files:,} files ({projects}); page cache warmed", file=sys.stderr)

    runs = {"ccusage": [], "import": [], "reimport": [], "api_import": [], "api_reimport": []}
    summaries = []
    data_dir = work / "data-0"
    for i in range(args.runs):
        cc = run_timed([str(CCUSAGE), "claude", "session", "--offline", "--json"], cc_env)
        cc_body = json.loads(cc.pop("out"))
        runs["ccusage"].append(cc)
        data_dir = work / f"data-{i}"
        first = run_timed([*ct_cmd, str(projects), "--json", "--data-dir", str(data_dir)], ct_env)
        summaries.append(json.loads(first.pop("out").decode().strip().splitlines()[-1]))
        runs["import"].append(first)
        again = run_timed([*ct_cmd, str(projects), "--json", "--data-dir", str(data_dir)], ct_env)
        re_summary = json.loads(again.pop("out").decode().strip().splitlines()[-1])
        if re_summary["rows_written"] or re_summary["bytes_read"]:
            raise SystemExit(f"re-import was not empty: {re_summary}")
        runs["reimport"].append(again)
        shutil.rmtree(data_dir, ignore_errors=True)
        # the same import through a running service (it holds the engine open; the CLI only asks it)
        served = work / f"served-{i}"
        with serving(served, ct_env) as base:
            api_first = run_timed([*ct_cmd, str(projects), "--json", "--api-url", base], ct_env)
            api_first.pop("out")
            api_again = run_timed([*ct_cmd, str(projects), "--json", "--api-url", base], ct_env)
            api_again.pop("out")
            runs["api_import"].append(api_first)
            runs["api_reimport"].append(api_again)
            if i == args.runs - 1:
                latency = measure_reports(base, args.requests)  # repeats: from the report cache
        if i == args.runs - 1:  # the same reports computed every time
            with serving(served, {**ct_env, "CCTELEMETRY_REPORT_CACHE": "0"}) as base:
                uncached = measure_reports(base, args.requests)
        print(f"run {i + 1}: ccusage {cc['wall_s']:.2f}s, import {first['wall_s']:.2f}s, "
              f"re-import {again['wall_s']:.2f}s; through the service {api_first['wall_s']:.2f}s, "
              f"{api_again['wall_s']:.2f}s", file=sys.stderr)  # fmt: skip
        if i < args.runs - 1:
            shutil.rmtree(served, ignore_errors=True)

    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall_s", "cpu_s", "peak_rss_mib")}
           for k, v in runs.items()}  # fmt: skip
    ours = latency.pop("totals")
    theirs = ccusage_totals(cc_body)
    same_tokens = all(ours[f"{k}_tokens"] == theirs[k] for k in ("input", "output", "cache_read")) and (
        ours["cache_creation_tokens"] == theirs["cache_write"])  # fmt: skip

    result = {
        "corpus": {"dir": str(args.corpus), "bytes": size, "files": files},
        "ccusage": {"version": "20.0.24", "command": "ccusage claude session --offline --json", **med["ccusage"]},
        "import": {"command": " ".join(["cctelemetry", "import", "<corpus>/projects", "--json"]), **med["import"],
                   "summary": summaries[-1]},
        "reimport": med["reimport"],
        "api_import": med["api_import"],
        "api_reimport": med["api_reimport"],
        "ratio_import_to_ccusage": med["import"]["wall_s"] / med["ccusage"]["wall_s"],
        "ratio_api_import_to_ccusage": med["api_import"]["wall_s"] / med["ccusage"]["wall_s"],
        "reports": latency,
        "reports_uncached": {k: v for k, v in uncached.items() if k != "totals"},
        "totals": {"cctelemetry": ours, "ccusage": theirs, "same_tokens": same_tokens},
        "runs": args.runs,
        "cpus": os.cpu_count(),
    }  # fmt: skip
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if same_tokens else 1


def print_table(r: dict) -> None:
    c, i, re_ = r["ccusage"], r["import"], r["reimport"]
    print(f"\ncorpus {r['corpus']['bytes'] / 2**20:,.0f} MiB, {r['corpus']['files']:,} files; median of {r['runs']} "
          f"runs; {r['cpus']} CPUs")  # fmt: skip
    print(f"{'':34}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}")
    for label, m in (("ccusage 20.0.24 claude session", c), ("cctelemetry import (first)", i),
                     ("cctelemetry import (nothing new)", re_),
                     ("  through a running service: first", r["api_import"]),
                     ("  through a running service: again", r["api_reimport"])):  # fmt: skip
        print(f"{label:34}{m['wall_s']:9.2f}{m['cpu_s']:9.2f}{m['peak_rss_mib']:10.0f}")
    print("(through the service: the CLI process only; the service's own CPU and memory are not counted)")
    print(f"ratio first import / ccusage: {r['ratio_import_to_ccusage']:.2f} (target <= 0.33); "
          f"through the service {r['ratio_api_import_to_ccusage']:.2f}")
    print(f"re-import: {re_['wall_s']:.2f} s (target < 1 s)")
    for g in ("day", "session"):
        x, u = r["reports"][g], r["reports_uncached"][g]
        print(f"GET /api/v1/usage?group_by={g} ({x['rows']} rows; target p95 < 100 ms): computed each time "
              f"p50 {u['p50_ms']:.1f} ms, p95 {u['p95_ms']:.1f} ms; repeated (report cache) p50 {x['p50_ms']:.1f} ms, "
              f"p95 {x['p95_ms']:.1f} ms")  # fmt: skip
    print(f"same token totals as ccusage: {r['totals']['same_tokens']}")


if __name__ == "__main__":
    raise SystemExit(main())
