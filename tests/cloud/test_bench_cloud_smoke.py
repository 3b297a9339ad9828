"""bench/cloud.py at a tiny scale: every row comes out and every job is printed (no timing thresholds)."""

import asyncio

import pytest

from bench import cloud

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_the_cloud_bench_polls_hands_out_and_reports(monkeypatch, tmp_path):
    monkeypatch.setattr(cloud, "REPO", tmp_path)  # results file under tmp_path/bench/results
    args = cloud.parser().parse_args(["--printers", "5", "--seconds", "1", "--jobs", "6", "--latency-interval", "0.5"])
    rows = asyncio.run(cloud.main_async(args))
    polls = [row for row in rows if row["phase"].startswith("polls")]
    assert len(polls) == 4 and all(row["errors"] == 0 and row["polls"] > 0 for row in polls)
    latency = rows[-1]
    assert latency["jobs_created"] == 6 and latency["jobs_printed"] == 6 and latency["errors"] == 0
    assert latency["commit_to_handout_p50_ms"] is not None
    assert (tmp_path / "bench" / "results" / "cloud-latest.json").exists()
