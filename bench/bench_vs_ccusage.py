"""The daily and session reports, ccusage 20.0.24 next to cctelemetry on the same transcripts, cold and repeated.

    .venv/bin/python bench/bench_vs_ccusage.py [--corpus dense|heavy] [--runs 4] [--json PATH]

The corpus (bench_import.py's, written by bench/gen_corpus.py on first use) is imported once into a fresh data
folder (not timed here: bench_import.py times the import). Then, alternating to spread machine noise, each
as a whole process timed from spawn to exit:

- ``ccusage claude daily --offline --json`` and ``ccusage claude session --offline --json`` (every run reads
  every file again: that is how ccusage works);
- ``cctelemetry usage --by day --json`` and ``--by session`` on the data folder (the CLI opens the store);
- the same two commands through a running ``cctelemetry serve`` (``--api-url``), as a user with the service
  installed runs them.

"cold" is the first run of each (the engine's and the page cache's first read of the data after a start);
"repeated" is the median of the others. The token totals of both tools must be equal, else it exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_import import CCUSAGE, REPO, ccusage_totals, ensure_corpus, free_port, run_timed, serving, warm

CLI = str(REPO / ".venv" / "bin" / "cctelemetry")
REPORTS = {"daily": "day", "session": "session"}


def summary(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    return {"cold_s": round(walls[0], 3), "repeated_s": round(statistics.median(walls[1:] or walls), 3),
            "peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs), 1), "runs": len(walls)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", choices=("dense", "heavy"), default="dense", help="bench_import.py's corpus")
    ap.add_argument("--runs", type=int, default=4, help="runs of each command (the first is the cold one)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)

    projects = ensure_corpus(REPO / ".bench" / ("dense" if args.corpus == "dense" else "corpus"), args.corpus)
    corpus = projects.parent
    if not CCUSAGE.exists():
        subprocess.run([str(REPO / "scripts" / "install-ccusage.sh")], check=True)
    work = Path(tempfile.mkdtemp(prefix="cctelemetry-bench-vs-"))
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCTELEMETRY_", "CLAUDE_", "XDG_CONFIG"))}
    cc_env = {**env, "CLAUDE_CONFIG_DIR": str(corpus), "HOME": str(home), "NO_COLOR": "1"}
    ct_env = {**env, "CCTELEMETRY_API_PORT": str(free_port()), "HOME": str(home)}
    data = work / "data"
    size = warm(projects)
    imported = run_timed([CLI, "import", str(projects), "--json", "--data-dir", str(data)], ct_env)
    print(f"corpus {size / 2**20:,.0f} MiB imported in {imported['wall_s']:.1f} s", file=sys.stderr)

    runs: dict[str, list[dict]] = {}
    answers: dict[str, dict] = {}

    def timed(name: str, cmd: list[str], run_env: dict) -> None:
        result = run_timed(cmd, run_env)
        answers[name] = json.loads(result.pop("out"))
        runs.setdefault(name, []).append(result)

    for _ in range(args.runs):
        for report, by in REPORTS.items():
            timed(f"ccusage_{report}", [str(CCUSAGE), "claude", report, "--offline", "--json"], cc_env)
            timed(f"cli_{report}", [CLI, "usage", "--by", by, "--json", "--data-dir", str(data)], ct_env)
    with serving(data, ct_env) as base:  # the imported folder, now under a service
        for _ in range(args.runs):
            for report, by in REPORTS.items():
                timed(f"service_{report}", [CLI, "usage", "--by", by, "--json", "--api-url", base], ct_env)

    result: dict = {"corpus": {"name": args.corpus, "bytes": size, "files": sum(1 for _ in projects.rglob("*.jsonl"))},
                    "import_s": round(imported["wall_s"], 2), "ccusage_version": "20.0.24"}  # fmt: skip
    for name, values in runs.items():
        result[name] = summary(values)
    for report in REPORTS:
        theirs = ccusage_totals(answers[f"ccusage_{report}"])
        ours = answers[f"cli_{report}"]["totals"]
        result[f"same_tokens_{report}"] = (
            all(ours[f"{k}_tokens"] == theirs[k] for k in ("input", "output", "cache_read"))
            and ours["cache_creation_tokens"] == theirs["cache_write"]
        )
        result[f"ratio_{report}_repeated"] = round(result[f"service_{report}"]["repeated_s"]
                                                   / result[f"ccusage_{report}"]["repeated_s"], 4)  # fmt: skip
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    for name in sorted(runs):
        s = result[name]
        print(
            f"{name:18s} cold {s['cold_s']:7.2f} s  repeated {s['repeated_s']:7.2f} s  "
            f"peak {s['peak_rss_mib']:6.0f} MiB",
            file=sys.stderr,
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0 if all(result[f"same_tokens_{r}"] for r in REPORTS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
