"""The bench harness at a tiny scale: every row comes out, with sane numbers.

No timing thresholds: the figures depend on the machine. This only proves that the harness
starts every setup, drives jobs end to end, measures, reports and cleans up.
"""

import json

import pytest

from bench import report, runner

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

TINY = runner.Scale(
    agents=5,
    rates=(20,),
    warmup_seconds=0.25,
    latency_seconds=1.0,  # 20 measured jobs
    saturation_seconds=1.0,
    saturation_concurrency=2,
    idle_counts=(10,),
    idle_hold_seconds=1.0,
    setups=("memory", "redis", "two_process"),
    idle_setups=("memory", "redis", "two_process"),
    drain_timeout=60.0,
)


def test_bench_produces_every_row_with_sane_numbers(tmp_path):
    path = tmp_path / "latest.json"
    results = runner.run(TINY, json_path=path, log=lambda line: None)

    assert json.loads(path.read_text()) == json.loads(json.dumps(results))
    rows = results["rows"]
    for setup in (*TINY.setups, "baseline"):
        mine = [row for row in rows if row["setup"] == setup]
        skipped = [row for row in mine if row["measure"] == "skipped"]
        if setup == "two_process" and skipped and "PostgreSQL unavailable" in skipped[0]["reason"]:
            continue  # allowed: the row says why
        assert not skipped, skipped

        (latency,) = [row for row in mine if row["measure"] == "latency"]
        assert latency["samples"] == 20 and latency["missing"] == 0 and latency["duplicates"] == 0
        assert latency["confirm_errors"] == 0 and latency["completed"] == latency["jobs"]
        assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"] < 60_000

        (throughput,) = [row for row in mine if row["measure"] == "throughput"]
        assert throughput["confirmed"] > 0 and throughput["completed"] == throughput["confirmed"]
        assert throughput["jobs_per_s"] > 0 and throughput["duplicates"] == 0

        (idle,) = [row for row in mine if row["measure"] == "idle"]
        assert idle["open"] == 10 and not idle["failures"]
        assert idle["rss_mb"] > 10 and idle["connects_per_s"] > 0

        (payload,) = [row for row in mine if row["measure"] == "payload"]
        assert 500 < payload["bytes_mean"] < 64 * 1024  # a real receipt, under the agent message limit

    table = report.render(results)
    for setup in ("memory", "baseline"):
        assert runner.SETUPS[setup] in table
    assert "Latency" in table and "Throughput" in table and "Idle agents" in table


def test_the_receipt_benchmark_runs(capsys):
    from bench import receipts

    receipts.main(["--runs", "2"])
    assert "ms per order receipt" in capsys.readouterr().out
