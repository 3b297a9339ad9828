"""The results as a plain-text table: every project figure beside the baseline's, and their ratio."""

from bench.runner import SETUPS, TARGET_CPU_MS_PER_JOB, TARGET_IDLE_MB, TARGET_P99_MS, TARGET_THROUGHPUT


def _table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return [line(header), line(["-" * width for width in widths]), *map(line, rows)]


def _num(value, digits=1):
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio(project, baseline, digits=1):
    if project is None or not baseline:
        return "—"
    ratio = project / baseline
    return f"{ratio:.{digits if ratio >= 0.1 else 3}f}×"


def _cpu(row):
    """Server CPU (% of one core), and what the rest of the machine used meanwhile."""
    other = row.get("other_cpu_pct")
    return f"{_num(row['server_cpu_pct'], 0)}%" + (f" ({_num(other, 0)}%)" if other is not None else "")


def _find(rows, **match):
    for row in rows:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def render(results):
    rows = results["rows"]
    meta = results["meta"]
    scale = meta["scale"]
    setups = [name for name in meta["setups"] if name != "baseline"]
    payload = _find(rows, measure="payload", setup=setups[0]) if setups else None
    size = f", receipts {payload['bytes_min'] / 1024:.1f}–{payload['bytes_max'] / 1024:.1f} KB" if payload else ""
    out = [
        f"Cantina Print bench · {meta['date']} · commit {meta['commit']} · Python {meta['python']}"
        f" · {meta['cpus']} CPUs · {meta['seconds']:.0f} s",
        f"{scale['agents']} simulated agents acknowledging every job at once{size}; baseline: {SETUPS['baseline']}.",
        "ratio = project ÷ baseline (latency: times slower; throughput and connect rate: share of the baseline;"
        " memory: times more).",
        "CPU = the server process(es), in % of one core; (others) = everything else on the machine meanwhile,"
        " agents included.",
        "",
    ]
    skipped = [row for row in rows if row["measure"] == "skipped"]

    base = {row["rate"]: row for row in rows if row["setup"] == "baseline" and row["measure"] == "latency"}
    table = []
    for setup in setups:
        for row in (r for r in rows if r["setup"] == setup and r["measure"] == "latency"):
            b = base.get(row["rate"], {})
            target = ""
            if row["rate"] == 100:
                ok = row["p99_ms"] is not None and row["p99_ms"] <= TARGET_P99_MS and not row["missing"]
                target = "met" if ok else f"missed by {_num((row['p99_ms'] or 0) - TARGET_P99_MS)} ms"
            table.append(
                [
                    f"{row['rate']}/s",
                    SETUPS[setup],
                    f"{_num(row['p50_ms'])} / {_num(row['p99_ms'])}",
                    f"{_num(b.get('p50_ms'))} / {_num(b.get('p99_ms'))}",
                    f"{_ratio(row['p50_ms'], b.get('p50_ms'))} / {_ratio(row['p99_ms'], b.get('p99_ms'))}",
                    _cpu(row),
                    f"{row['missing']}",
                    target,
                ]
            )
    for rate, b in sorted(base.items()):
        table.append(
            [
                f"{rate}/s",
                SETUPS["baseline"],
                f"{_num(b['p50_ms'])} / {_num(b['p99_ms'])}",
                "",
                "",
                _cpu(b),
                f"{b['missing']}",
                "",
            ]
        )
    out += [
        "Latency, confirm → new_order at the agent (ms), open loop at a fixed offered rate",
        *_table(
            [
                "rate",
                "setup",
                "p50 / p99",
                "baseline p50 / p99",
                "ratio p50 / p99",
                "CPU (others)",
                "missing",
                f"target p99 ≤ {TARGET_P99_MS:.0f} ms @100/s",
            ],
            table,
        ),
        "",
    ]

    b = _find(rows, setup="baseline", measure="throughput") or {}
    table = []
    for setup in setups:
        row = _find(rows, setup=setup, measure="throughput")
        if row is None:
            continue
        target = ""
        if setup != "two_process":
            value = row["jobs_per_s"] or 0
            cpu = row.get("cpu_ms_per_job")
            target = "met" if value >= TARGET_THROUGHPUT else f"missed: {value / TARGET_THROUGHPUT:.0%} of it"
            if cpu is not None:
                target += (
                    "; CPU met" if cpu <= TARGET_CPU_MS_PER_JOB else f"; CPU {cpu / TARGET_CPU_MS_PER_JOB:.1f}× over"
                )
        table.append(
            [
                SETUPS[setup],
                _num(row["jobs_per_s"]),
                _num(b.get("jobs_per_s")),
                _ratio(row["jobs_per_s"], b.get("jobs_per_s"), 3),
                _num(row["confirms_per_s"]),
                f"{row['completed']}/{row['confirmed']}",
                _num(row.get("printed_during_pct")) + " %" if row.get("printed_during_pct") is not None else "",
                _cpu(row),
                _num(row.get("cpu_ms_per_job"), 2),
                target,
            ]
        )
    if b:
        table.append(
            [
                SETUPS["baseline"],
                _num(b["jobs_per_s"]),
                "",
                "",
                _num(b["confirms_per_s"]),
                f"{b['completed']}/{b['confirmed']}",
                _num(b.get("printed_during_pct")) + " %" if b.get("printed_during_pct") is not None else "",
                _cpu(b),
                _num(b.get("cpu_ms_per_job"), 2),
                "",
            ]
        )
    out += [
        f"Throughput at saturation, confirm → job completed in the database ({scale['saturation_concurrency']}"
        " confirmations in flight per process; printed during = share of the confirmed jobs completed before the"
        " last confirmation, not after it)",
        *_table(
            [
                "setup",
                "jobs/s",
                "baseline jobs/s",
                "ratio",
                "confirms/s",
                "completed",
                "printed during",
                "CPU (others)",
                "CPU ms/job",
                f"target ≥ {TARGET_THROUGHPUT:.0f}/s, ≤ {TARGET_CPU_MS_PER_JOB} ms/job in 1 process",
            ],
            table,
        ),
        "",
    ]

    table = []
    for setup in (*setups, "baseline"):
        for row in (r for r in rows if r["setup"] == setup and r["measure"] == "idle"):
            b = _find(rows, setup="baseline", measure="idle", agents=row["agents"]) or {}
            target = ""
            if row["agents"] == 5000 and row["processes"] == 1 and setup != "baseline":
                if row["rss_mb"] > TARGET_IDLE_MB:
                    target = f"missed by {_num(row['rss_mb'] - TARGET_IDLE_MB)} MB"
                elif row["open"] < 5000:
                    target = f"memory ok; only {row['open']:,} connected in {_num(row['connect_seconds'], 0)} s"
                else:
                    target = "met"
            is_base = setup == "baseline"
            table.append(
                [
                    SETUPS[setup] + (f" ({row['processes']} processes)" if row["processes"] > 1 else ""),
                    f"{row['agents']:,}",
                    f"{row['open']:,}",
                    _num(row["rss_mb"]),
                    "" if is_base else _ratio(row["rss_mb"], b.get("rss_mb")),
                    _num(row["kb_per_agent"]),
                    _num(row["connects_per_s"]),
                    "" if is_base else _ratio(row["connects_per_s"], b.get("connects_per_s"), 2),
                    _cpu(row),
                    target,
                ]
            )
    if table:
        out += [
            "Idle agents held (pinging every 8 s like the real agent); RSS from /proc/<pid>/status",
            *_table(
                [
                    "setup",
                    "agents",
                    "open",
                    "RSS MB",
                    "ratio",
                    "KB/agent",
                    "connects/s",
                    "ratio",
                    "idle CPU (others)",
                    f"target 5,000 < {TARGET_IDLE_MB:.0f} MB",
                ],
                table,
            ),
            "",
        ]

    for row in skipped:
        out.append(f"skipped: {SETUPS.get(row['setup'], row['setup'])}: {row['reason']}")
    problems = [
        f"{SETUPS[row['setup']]} {row['measure']}{' @' + str(row['rate']) + '/s' if 'rate' in row else ''}:"
        f" {row.get('missing', 0)} missing, {row.get('duplicates', 0)} duplicates,"
        f" {row.get('confirm_errors', 0)} confirm errors"
        for row in rows
        if row.get("missing") or row.get("duplicates") or row.get("confirm_errors")
    ]
    out += [f"problems: {problem}" for problem in problems]
    return "\n".join(out).rstrip() + "\n"
