"""``python -m bench [--quick] [--json PATH] [--compare REV]``: run the bench, print the table, write JSON."""

import argparse
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import report, runner

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
REPO = Path(__file__).resolve().parent.parent


def run_at_revision(rev, json_path, quick, log):
    """Run this bench's command on a temporary ``git worktree`` of ``rev``; return its results."""
    with tempfile.TemporaryDirectory(prefix="cantina-bench-compare-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), rev], cwd=REPO, check=True, capture_output=True, text=True
        )
        try:
            venv = (REPO / ".venv").resolve()
            if venv.exists() and not (tree / ".venv").exists():
                (tree / ".venv").symlink_to(venv)
            # Compiled catalogues are not committed, and without them the servers refuse to start.
            subprocess.run([sys.executable, "-m", "cantina.msgfmt"], cwd=tree, check=True, capture_output=True)
            log(f"bench at {rev} ({tree})")
            command = [sys.executable, "-m", "bench", "--json", str(json_path)] + (["--quick"] if quick else [])
            subprocess.run(command, cwd=tree, check=True, stdout=subprocess.DEVNULL)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, capture_output=True, check=False
            )
    return json.loads(json_path.read_text())


def comparison(before, after, rev):
    """Key figures of two runs side by side."""

    def figures(results):
        found = {}
        for row in results["rows"]:
            setup, measure = row["setup"], row["measure"]
            if measure == "throughput":
                found[f"{setup} jobs/s"] = row.get("jobs_per_s")
                found[f"{setup} CPU ms/job"] = row.get("cpu_ms_per_job")
            elif measure == "latency" and row.get("rate") == 100:
                found[f"{setup} p99 ms @100/s"] = row.get("p99_ms")
            elif measure == "idle":
                found[f"{setup} connects/s ({row['agents']} agents, {row['processes']} proc)"] = row.get(
                    "connects_per_s"
                )
                found[f"{setup} idle CPU % ({row['agents']} agents, {row['processes']} proc)"] = row.get(
                    "server_cpu_pct"
                )
        return found

    a, b = figures(before), figures(after)
    rows = [[name, report._num(a.get(name), 2), report._num(b.get(name), 2)] for name in sorted(set(a) | set(b))]
    header = ["figure", f"{rev} ({before['meta']['commit']})", f"this tree ({after['meta']['commit']})"]
    return "\n".join(report._table(header, rows)) + "\n"


def _interrupt(signum, frame):
    # SIGTERM stops like Ctrl-C: every child process is stopped on the way out.
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="short run (about 2 minutes): fewer samples, 1,000 idle agents"
    )
    parser.add_argument(
        "--json", default=str(DEFAULT_JSON), help=f"where to write the results (default {DEFAULT_JSON})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (server logs, databases)")
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="also run the bench on a git worktree of REV first, and print both with a comparison",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the servers during the saturation phase (needs: pip install py-spy)",
    )
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _interrupt)
    scale = runner.QUICK if args.quick else runner.FULL
    json_path = Path(args.json)

    def log(line):
        print(line, file=sys.stderr, flush=True)

    before = None
    if args.compare:
        before = run_at_revision(
            args.compare, json_path.with_name(f"{json_path.stem}-{args.compare}.json"), args.quick, log
        )
    results = runner.run(
        scale,
        json_path=json_path,
        log=log,
        keep_work_dir=args.keep,
        profile_dir=json_path.parent / f"{json_path.stem}-profile" if args.profile else None,
    )
    print()
    if before is not None:
        print(f"=== {args.compare} ===")
        print(report.render(before))
        print("=== this tree ===")
    print(report.render(results), end="")
    if before is not None:
        print()
        print(comparison(before, results, args.compare), end="")
    print(f"\nresults: {args.json}")


if __name__ == "__main__":
    main()
