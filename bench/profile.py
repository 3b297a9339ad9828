"""Optional hot-path profile (``python -m bench --profile``): py-spy samples the server processes
during the saturation phase. py-spy is not a project dependency: ``pip install py-spy`` first.

Only samples of a thread holding the GIL count (``--gil``): one process runs Python on one core at
a time, so that is where its CPU goes. Time spent waiting (locks, the database) does not show.

The raw output (collapsed stacks, one line per distinct stack: ``frame;frame;… count``) is kept
next to the results; the summary ranks functions by inclusive share of the samples (time spent in
it or below it) and by self share (time spent in the function itself).
"""

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy():
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    return found


class Recording:
    def __init__(self, pid, seconds, output):
        self.output = Path(output)
        self.process = subprocess.Popen(
            [
                py_spy(),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--function",
                "--gil",
                "--output",
                str(self.output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self, timeout=120):
        try:
            _, error = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            return "py-spy timed out"
        return None if self.output.exists() else (error or "py-spy wrote nothing").strip()[-300:]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def summarize(path, top=20):
    """{"samples": n, "inclusive": [(function, share)], "own": [(function, share)]}."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in Path(path).read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        frames = [frame for frame in stack.split(";") if frame]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    share = lambda counter: [(name, round(n / total, 4)) for name, n in counter.most_common(top)]  # noqa: E731
    return {"samples": total, "inclusive": share(inclusive) if total else [], "own": share(own) if total else []}


def render(summary, title):
    lines = [f"{title}: {summary['samples']} samples"]
    for kind, label in (("inclusive", "in the function or below it"), ("own", "in the function itself")):
        lines.append(f"  top {label}:")
        lines += [f"    {share:6.1%}  {name}" for name, share in summary[kind]]
    return "\n".join(lines)
