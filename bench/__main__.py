"""``python -m bench [--quick] [--json PATH]``: run the bench, print the table, write JSON."""

import argparse
import signal
import sys
from pathlib import Path

from bench import report, runner

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


def _interrupt(signum, frame):
    # SIGTERM stops like Ctrl-C: every child process is stopped on the way out.
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (about 2 minutes): fewer samples, 1,000 idle agents")
    parser.add_argument("--json", default=str(DEFAULT_JSON), help=f"where to write the results (default {DEFAULT_JSON})")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (server logs, databases)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the servers during the saturation phase (needs: pip install py-spy)")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _interrupt)
    scale = runner.QUICK if args.quick else runner.FULL
    json_path = Path(args.json)
    results = runner.run(
        scale, json_path=json_path, log=lambda line: print(line, file=sys.stderr, flush=True), keep_work_dir=args.keep,
        profile_dir=json_path.parent / f"{json_path.stem}-profile" if args.profile else None,
    )
    print()
    print(report.render(results), end="")
    print(f"\nresults: {args.json}")


if __name__ == "__main__":
    main()
