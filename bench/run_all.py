"""``make bench``: every benchmark in one run, their figures in one JSON file, the README's table built from it.

    .venv/bin/python bench/run_all.py [--out bench/results.json] [--only reports_1m,terminal] [--skip ...]
                                      [--readme README.md]

Each step is one of the bench scripts as its own process (so a crash or a leak stays in its step), run one
after another: this machine's cores are shared, and ratios against ccusage are only fair inside one run.
A step that fails is recorded with its error and the others still run. The 1M- and 10M-request stores are
generated once into ``.bench/`` (bench/gen_store.py) and reused. At the end the README's table (between
``<!-- bench:start -->`` and ``<!-- bench:end -->``) is rewritten from the results (bench/readme_table.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = str(REPO / ".venv" / "bin" / "python")
BENCH = REPO / "bench"
STORES = REPO / ".bench"


def store(requests: int) -> Path:
    """A generated store of ``requests`` requests, made once (a marker says it is complete)."""
    folder = STORES / f"store-{requests // 1_000_000}m"
    if not (folder / ".complete").exists():
        subprocess.run([PY, str(BENCH / "gen_store.py"), "--requests", str(requests), "--data-dir", str(folder)],
                       check=True)  # fmt: skip
        (folder / ".complete").write_text(datetime.now(UTC).isoformat() + "\n")
    return folder


def reports(requests: int) -> list[str]:
    return [str(BENCH / "bench_reports.py"), "--data-dir", str(store(requests)), "--raw"]


# name: (the script and its arguments, made when the step runs; whether the script takes --json PATH)
STEPS = {
    "terminal": (lambda: [str(BENCH / "bench_terminal.py")], True),
    "reports_1m": (lambda: reports(1_000_000), True),
    "reports_10m": (lambda: reports(10_000_000), True),
    "import": (lambda: [str(BENCH / "bench_import.py")], True),
    "vs_ccusage": (lambda: [str(BENCH / "bench_vs_ccusage.py")], True),
    "ingest": (lambda: [str(BENCH / "bench_ingest.py")], True),
    "live": (lambda: [str(BENCH / "bench_live.py")], False),
    "policy": (lambda: [str(BENCH / "bench_policy.py")], False),
    "dashboard": (lambda: [str(BENCH / "bench_dashboard.py")], True),
}


def last_json(text: str) -> dict:
    """The last line of ``text`` that is a JSON object (the scripts print one on stdout)."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise ValueError("no JSON object on stdout")


def run_step(name: str) -> dict:
    make, takes_json = STEPS[name]
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        out_file = Path(tmp) / f"{name}.json"
        try:
            cmd = [PY, *make()] + (["--json", str(out_file)] if takes_json else [])
            proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True, timeout=3 * 3600)
            result = json.loads(out_file.read_text()) if out_file.exists() else last_json(proc.stdout)
            if proc.returncode != 0:
                result["exit_code"] = proc.returncode
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
    result["step_seconds"] = round(time.monotonic() - started, 1)
    result["command"] = " ".join(["python", *[os.path.relpath(a, REPO) if a.startswith(str(REPO)) else a
                                              for a in make()]])  # fmt: skip
    return result


def environment() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit.stdout.strip(),
            "cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
            "machine": platform.machine(), "ccusage": "20.0.24"}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=BENCH / "results.json")
    ap.add_argument("--only", default="", help="comma-separated steps: " + ", ".join(STEPS))
    ap.add_argument("--skip", default="", help="comma-separated steps to leave out")
    ap.add_argument("--readme", type=Path, default=REPO / "README.md", help="the README whose table is rewritten")
    ap.add_argument("--keep", action="store_true", help="keep the other steps' figures already in --out")
    args = ap.parse_args(argv)
    chosen = [s for s in (args.only.split(",") if args.only else STEPS) if s and s not in args.skip.split(",")]
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        ap.error(f"unknown steps: {', '.join(unknown)}")
    results = json.loads(args.out.read_text()) if args.keep and args.out.exists() else {"steps": {}}
    results["environment"] = environment()
    for name in chosen:
        print(f"== {name}", file=sys.stderr, flush=True)
        results["steps"][name] = run_step(name)
        results["steps"][name]["load_average_after"] = os.getloadavg()
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")  # what is done is kept
    subprocess.run([PY, str(BENCH / "readme_table.py"), str(args.out), str(args.readme)], check=True)
    failed = [n for n in chosen if "error" in results["steps"][n] or results["steps"][n].get("exit_code")]
    print(f"results: {args.out}" + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
