"""Benchmark: ``cctelemetry import`` next to ccusage 20.0.24 on the same transcripts, as whole processes,
then the report latency over the imported data.

    python bench/bench_import.py [--corpora dense,heavy] [--runs 3] [--no-service] [--json results.json]

1. Two corpora from bench/gen_corpus.py (deterministic; written under ``--bench-dir``, default ``.bench``, on
   first use): **dense** (1.3 GB, 3,000 sessions over 100 days, short tool results: ~595k requests in 33k
   files) and **heavy** (1 GiB, big tool results in user lines: ~124k requests in 7k files).
2. Per corpus and run, alternating to spread machine noise, each a separate process timed with ``os.wait4``
   (wall clock, user+system CPU, peak RSS of the process and its children):
   - ccusage: ``ccusage claude session --offline --json`` with ``CLAUDE_CONFIG_DIR=<corpus>``;
   - first import: ``cctelemetry import <corpus>/projects --json`` into a fresh data folder;
   - re-import with nothing new: the same command again.
   The page cache is warmed (every file read once) before the runs, so all read from memory.
3. The totals of both tools are compared (tokens per type must be equal, else the figures mean nothing).
4. Heavy corpus only (unless ``--no-service``): the same two imports through a running ``cctelemetry serve``
   (fresh data folder; the CLI process is timed, it only asks the service), then on that service p50/p95 of
   ``GET /api/v1/usage?group_by=day`` and ``group_by=session`` (warm-up requests first, then ``--requests`` of
   each), answered from the service's report cache; then the same with ``CCTELEMETRY_REPORT_CACHE=0``.

Targets (issue 11): first import <= 0.4x ccusage's time on the dense corpus, <= 0.6x on the heavy one; peak
RSS <= 700 MiB; re-import < 1 s. ``--json PATH`` writes every figure (medians, each run, the load average at
each run's start, whether each target is met). Three runs of both take about 5 minutes here once the corpora
exist (writing them takes about 2.5 minutes more).
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
    cmd = [str(REPO / ".venv" / "bin" / "cctelemetry"), "serve", "--data-dir", str(data_dir), "--api-port",
           str(api_port), "--otlp-port", str(otlp_port), "--grpc-port", "0", "--metrics-port", "0"]  # fmt: skip
    log = open(data_dir.parent / f"serve-{data_dir.name}.log", "wb")  # noqa: SIM115 - the service's log, closed in finally
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


# The corpora (bench/gen_corpus.py arguments) and the first import's target, as a share of ccusage's time.
CORPORA = {
    "dense": {"args": ["--profile", "dense", "--size-mb", "1300", "--sessions", "3000", "--days", "100"],
              "target_ratio": 0.4},
    "heavy": {"args": ["--profile", "heavy", "--size-mb", "1024"], "target_ratio": 0.6},
}  # fmt: skip
TARGET_RSS_MIB = 700


def ensure_corpus(folder: Path, name: str) -> Path:
    projects = folder / "projects"
    if not projects.is_dir():
        print(f"writing the {name} corpus to {folder} ...", file=sys.stderr)
        subprocess.run([str(VENV_PY), str(REPO / "bench" / "gen_corpus.py"), str(folder), *CORPORA[name]["args"]],
                       check=True)  # fmt: skip
    return projects


def our_totals(data_dir: Path, env: dict) -> dict:
    """The imported tokens per type, as ``cctelemetry usage --json`` reports them."""
    out = subprocess.run([str(REPO / ".venv" / "bin" / "cctelemetry"), "usage", "--json", "--data-dir", str(data_dir)],
                         env=env, capture_output=True, check=True).stdout  # fmt: skip
    return json.loads(out)["totals"]


def same_tokens(ours: dict, theirs: dict) -> bool:
    return all(ours[f"{k}_tokens"] == theirs[k] for k in ("input", "output", "cache_read")) and (
        ours["cache_creation_tokens"] == theirs["cache_write"])  # fmt: skip


def bench_corpus(name: str, folder: Path, runs: int, work: Path, env: dict, served: bool, requests: int) -> dict:
    """Alternating runs of ccusage and the first import (then a re-import) on one corpus; with ``served``, the
    same imports through a running service and the report latency there too."""
    projects = ensure_corpus(folder, name)
    cc_env = {**env, "CLAUDE_CONFIG_DIR": str(folder), "NO_COLOR": "1"}
    # no service may answer on the default API port during the import: force the in-process path
    ct_env = {**env, "CCTELEMETRY_API_PORT": str(free_port())}
    ct_cmd = [str(REPO / ".venv" / "bin" / "cctelemetry"), "import"]
    size = warm(projects)
    files = sum(1 for _ in projects.rglob("*.jsonl"))
    print(f"{name} corpus: {size / 2**20:,.0f} MiB in {files:,} files ({projects}); page cache warmed", file=sys.stderr)
    times = {"ccusage": [], "import": [], "reimport": [], "api_import": [], "api_reimport": []}
    loads = []
    summaries, theirs, ours, latency, uncached = [], {}, {}, {}, {}
    for i in range(runs):
        loads.append(os.getloadavg()[0])
        cc = run_timed([str(CCUSAGE), "claude", "session", "--offline", "--json"], cc_env)
        theirs = ccusage_totals(json.loads(cc.pop("out")))
        times["ccusage"].append(cc)
        data_dir = work / f"{name}-data-{i}"
        first = run_timed([*ct_cmd, str(projects), "--json", "--data-dir", str(data_dir)], ct_env)
        summaries.append(json.loads(first.pop("out").decode().strip().splitlines()[-1]))
        times["import"].append(first)
        again = run_timed([*ct_cmd, str(projects), "--json", "--data-dir", str(data_dir)], ct_env)
        re_summary = json.loads(again.pop("out").decode().strip().splitlines()[-1])
        if re_summary["rows_written"] or re_summary["bytes_read"]:
            raise SystemExit(f"re-import was not empty: {re_summary}")
        times["reimport"].append(again)
        if i == 0:
            ours = our_totals(data_dir, ct_env)
        shutil.rmtree(data_dir, ignore_errors=True)
        line = (f"{name} run {i + 1}: ccusage {cc['wall_s']:.2f}s, import {first['wall_s']:.2f}s "
                f"({first['peak_rss_mib']:.0f} MiB), re-import {again['wall_s']:.2f}s")  # fmt: skip
        if served:  # the same import through a running service (it holds the engine open; the CLI only asks it)
            served_dir = work / f"{name}-served-{i}"
            with serving(served_dir, ct_env) as base:
                api_first = run_timed([*ct_cmd, str(projects), "--json", "--api-url", base], ct_env)
                api_first.pop("out")
                api_again = run_timed([*ct_cmd, str(projects), "--json", "--api-url", base], ct_env)
                api_again.pop("out")
                times["api_import"].append(api_first)
                times["api_reimport"].append(api_again)
                if i == runs - 1:
                    latency = measure_reports(base, requests)  # repeats: from the report cache
            if i == runs - 1:  # the same reports computed every time
                with serving(served_dir, {**ct_env, "CCTELEMETRY_REPORT_CACHE": "0"}) as base:
                    uncached = measure_reports(base, requests)
            shutil.rmtree(served_dir, ignore_errors=True)
            line += f"; through the service {api_first['wall_s']:.2f}s, {api_again['wall_s']:.2f}s"
        print(line, file=sys.stderr)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall_s", "cpu_s", "peak_rss_mib")}
           for k, v in times.items() if v}  # fmt: skip
    ratio = med["import"]["wall_s"] / med["ccusage"]["wall_s"]
    result = {
        "corpus": {"dir": str(folder), "bytes": size, "files": files, "gen_corpus": CORPORA[name]["args"],
                   "requests": summaries[-1]["requests"]},
        "ccusage": {"version": "20.0.24", "command": "ccusage claude session --offline --json", **med["ccusage"]},
        "import": {"command": "cctelemetry import <corpus>/projects --json", **med["import"], "summary": summaries[-1]},
        "reimport": med["reimport"],
        "ratio_import_to_ccusage": ratio,
        "per_run": {k: [{m: round(r[m], 3) for m in r} for r in v] for k, v in times.items() if v},
        "targets": {"ratio": CORPORA[name]["target_ratio"], "peak_rss_mib": TARGET_RSS_MIB, "reimport_s": 1.0},
        "met": {"ratio": ratio <= CORPORA[name]["target_ratio"],
                "peak_rss": med["import"]["peak_rss_mib"] <= TARGET_RSS_MIB,
                "reimport": med["reimport"]["wall_s"] < 1.0},
        "totals": {"cctelemetry": ours, "ccusage": theirs, "same_tokens": same_tokens(ours, theirs)},
        "load_average_1m": loads,
    }  # fmt: skip
    if served:
        result |= {"api_import": med["api_import"], "api_reimport": med["api_reimport"],
                   "ratio_api_import_to_ccusage": med["api_import"]["wall_s"] / med["ccusage"]["wall_s"],
                   "reports": {k: v for k, v in latency.items() if k != "totals"},
                   "reports_uncached": {k: v for k, v in uncached.items() if k != "totals"}}  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", default="dense,heavy", help="which corpora, comma-separated: dense, heavy")
    ap.add_argument(
        "--bench-dir",
        type=Path,
        default=REPO / ".bench",
        help="where the corpora are (written on first use: <dir>/dense, <dir>/corpus for heavy)",
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=50, help="report requests per group_by for the latency")
    ap.add_argument("--no-service", action="store_true", help="skip the imports through a running service")
    ap.add_argument("--work", type=Path, default=None, help="where data folders go (default: a temp folder)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    if not CCUSAGE.exists():
        subprocess.run([str(REPO / "scripts" / "install-ccusage.sh")], check=True)

    work = Path(tempfile.mkdtemp(prefix="cctelemetry-bench-", dir=args.work))
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCTELEMETRY_", "CLAUDE_", "XDG_CONFIG"))}
    env["HOME"] = str(home)
    folders = {"dense": args.bench_dir / "dense", "heavy": args.bench_dir / "corpus"}
    result: dict = {"corpora": {}, "runs": args.runs, "cpus": os.cpu_count(),
                    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    try:
        for name in [c.strip() for c in args.corpora.split(",") if c.strip()]:
            if name not in CORPORA:
                ap.error(f"unknown corpus {name!r}; use {', '.join(CORPORA)}")
            served = name == "heavy" and not args.no_service
            result["corpora"][name] = bench_corpus(name, folders[name], args.runs, work, env, served, args.requests)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if all(c["totals"]["same_tokens"] for c in result["corpora"].values()) else 1


def print_table(r: dict) -> None:
    print(f"\nmedian of {r['runs']} runs; {r['cpus']} CPUs; {r['date']}")
    for name, c in r["corpora"].items():
        corpus = c["corpus"]
        print(f"\n{name}: {corpus['bytes'] / 2**20:,.0f} MiB, {corpus['files']:,} files, {corpus['requests']:,} "
              f"requests; load average {', '.join(f'{x:.1f}' for x in c['load_average_1m'])}")  # fmt: skip
        print(f"{'':36}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}")
        rows = [("ccusage 20.0.24 claude session", c["ccusage"]), ("cctelemetry import (first)", c["import"]),
                ("cctelemetry import (nothing new)", c["reimport"])]  # fmt: skip
        if "api_import" in c:
            rows += [("  through a running service: first", c["api_import"]),
                     ("  through a running service: again", c["api_reimport"])]  # fmt: skip
        for label, m in rows:
            print(f"{label:36}{m['wall_s']:9.2f}{m['cpu_s']:9.2f}{m['peak_rss_mib']:10.0f}")
        t = c["targets"]
        print(f"ratio first import / ccusage: {c['ratio_import_to_ccusage']:.2f} (target <= {t['ratio']}); "
              f"peak RSS {c['import']['peak_rss_mib']:.0f} MiB (target <= {t['peak_rss_mib']}); "
              f"re-import {c['reimport']['wall_s']:.2f} s (target < 1 s)")  # fmt: skip
        for g in c.get("reports", {}):
            x, u = c["reports"][g], c["reports_uncached"][g]
            print(f"GET /api/v1/usage?group_by={g} ({x['rows']} rows): computed each time p50 {u['p50_ms']:.1f} ms, "
                  f"p95 {u['p95_ms']:.1f} ms; repeated (report cache) p50 {x['p50_ms']:.1f} ms, "
                  f"p95 {x['p95_ms']:.1f} ms")  # fmt: skip
        print(f"same token totals as ccusage: {c['totals']['same_tokens']}")


if __name__ == "__main__":
    raise SystemExit(main())
