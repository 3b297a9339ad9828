"""Mutation testing of the delivery code: does the fast suite notice when a rule breaks?

    .venv/bin/python tools/mutate.py                      # every target below
    .venv/bin/python tools/mutate.py --target journal     # one target (services, consumers, client, journal)
    .venv/bin/python tools/mutate.py --list               # the mutants only, nothing run
    .venv/bin/python tools/mutate.py --target services --functions jobs_claim,job_cancel
    .venv/bin/python tools/mutate.py --rerun var/mutate/run-X.json   # the survivors/timeouts of a run
    .venv/bin/python tools/mutate.py --target client --mutant 'Agent._print#8' --tests FILE  # one mutant
    .venv/bin/python tools/mutate.py --tests tests/agent  # other tests than the target's

Each mutant is one small change to one of the chosen functions: a comparison flipped (== to !=,
< to >=, in to not in…), a boolean negated (``not x`` to ``x``, ``and`` to ``or``, an ``if``
condition negated), a constant changed (n to n + 1, True to False) or a statement deleted (a call
or ``await`` replaced by ``pass``; logging calls are left alone, deleting them is equivalent).
The mutant is written into a copy of the repository (the working tree is never touched) and the
target's fast tests run on it with ``-x`` and a timeout: a failing or timed-out run kills it, a
green run means it survived. The score is killed / total; survivors are printed with their
line, so each is either killed by a new test or explained as equivalent.

Results (outcome, seconds, the survivors' diffs) go to var/mutate/run-<time>.json after every
mutant. Not in CI: a full run takes about an hour (one pytest run per mutant, one at a time).
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# target: (module path, functions (Class.method or function), fast tests that guard them)
SERVER_TESTS = [
    "tests/contract/test_delivery_rules.py",
    "tests/contract/test_job_states.py",
    "tests/contract/test_close_codes.py",
    "tests/contract/test_agent_protocol.py",
    "tests/test_agent_consumer.py",
    "tests/test_job_retries_and_expiry.py",
    "tests/test_rules.py",
    "tests/contract/test_service_rules.py",
    "tests/contract/test_sweep_rules.py",
    "tests/contract/test_flood_accounting.py",
    "tests/test_database_outage.py",  # a database error while delivering closes 4503 (3 s)
    # the outbox: every transition's job.<status> event (kills _record's _job_event deleted)
    "tests/webhooks/test_webhooks.py::test_job_transitions_and_printer_changes_become_events",
    # one "does a webhook want job.sent?" per claim, not per job (kills jobs_claim's and → or)
    "tests/test_query_budgets.py::test_claiming_jobs_costs_the_same_for_one_or_a_whole_batch",
]
AGENT_TESTS = [
    "tests/contract/test_delivery_rule_7_agent_journal.py",
    "tests/agent/test_agent_journal.py",
    "tests/agent/test_agent_client.py",
    "tests/agent/test_agent_client_rules.py",
]
TARGETS = {
    "services": (
        "printing/services.py",
        [
            "_job_create",
            "job_reprint",
            "order_reprint",
            "_record",
            "jobs_claim",
            "job_mark_status",
            "job_cancel",
            "job_retry",
            "jobs_expire",
            "printer_set_active",
            "printer_revoke_token",
        ],
        SERVER_TESTS,
    ),
    "consumers": (
        "printing/consumers.py",
        [
            "AgentRegistry.sweep",
            "AgentConsumer.start_session",
            "AgentConsumer.verdict",
            "AgentConsumer.deliver",
            "AgentConsumer._deliver",
            "AgentConsumer.solicited",
            "AgentConsumer.on_ping",
            "AgentConsumer.on_print_status",
            "AgentConsumer.on_printer_info",
            "AgentConsumer.agent_recheck",
            "AgentConsumer.agent_replaced",
            "AgentConsumer.job_wakeup",
            "AgentConsumer.agent_job_cancelled",
        ],
        SERVER_TESTS,
    ),
    "client": (
        "agent/client.py",
        [
            "Agent._dispatch",
            "Agent._on_new_order",
            "Agent._on_cancel",
            "Agent._print",
            "Agent._fail_retryable",
            "Agent._report_interrupted",
            "Agent._send_status",
            "Agent._drop_queued_jobs",
        ],
        AGENT_TESTS,
    ),
    "journal": (
        "agent/journal.py",
        [
            "Journal.get",
            "Journal.mark_started",
            "Journal.mark_completed",
            "Journal.mark_interrupted",
            "Journal.recover",
        ],
        AGENT_TESTS,
    ),
}

FLIPS = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


@dataclass
class Mutant:
    target: str
    function: str
    index: int  # n-th mutation point inside the function
    line: int
    description: str


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _is_logging(node: ast.AST) -> bool:
    call = node.value if isinstance(node, (ast.Expr, ast.Await)) else node
    if isinstance(call, ast.Await):
        call = call.value
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id in {"log", "logging", "logger"}
    )


def _points(function: Function):
    """Yield (node, kind, description) for every mutation point of ``function``, in a fixed order."""
    skip: set[int] = set()
    for node in ast.walk(function):
        if _is_logging(node):
            skip.update(id(n) for n in ast.walk(node))
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        skip.add(id(body[0]))  # the docstring
    for node in ast.walk(function):
        if id(node) in skip or node is function:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in FLIPS:
                    yield node, ("compare", i), f"{type(op).__name__} -> {FLIPS[type(op)].__name__}"
        elif isinstance(node, ast.BoolOp):
            yield node, ("boolop",), f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, ("not",), "not x -> x"
        elif isinstance(node, (ast.If, ast.While)) and not isinstance(
            node.test, (ast.Compare, ast.UnaryOp, ast.BoolOp)
        ):
            yield node, ("negate",), "condition negated"
        elif isinstance(node, ast.Constant) and isinstance(node.value, int):  # bool is an int too
            new = (not node.value) if isinstance(node.value, bool) else node.value + 1
            yield node, ("constant",), f"{node.value!r} -> {new!r}"
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            yield node, ("delete",), "statement deleted"


def _apply(function: Function, index: int) -> ast.AST:
    mutated = copy.deepcopy(function)
    node, kind, _ = list(_points(mutated))[index]
    if kind[0] == "compare":
        node.ops[kind[1]] = FLIPS[type(node.ops[kind[1]])]()
    elif kind[0] == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind[0] == "negate":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif kind[0] == "constant":
        node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
    elif kind[0] == "not":
        _replace(mutated, node, node.operand)
    else:
        _replace(mutated, node, ast.Pass())
    return ast.fix_missing_locations(mutated)


def _replace(root: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(root):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return
            elif value is old:
                setattr(parent, field, new)
                return
    raise AssertionError("mutation point not found")


def _functions(tree: ast.Module, names: list[str]) -> dict[str, Function]:
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            found[node.name] = node
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                qualified = f"{node.name}.{getattr(item, 'name', '')}"
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and qualified in names:
                    found[qualified] = item
    missing = set(names) - set(found)
    if missing:
        raise SystemExit(f"functions not found: {', '.join(sorted(missing))}")
    return found


def mutants_of(target: str) -> tuple[str, list[Mutant], dict]:
    path, names, _ = TARGETS[target]
    source = (REPO / path).read_text()
    functions = _functions(ast.parse(source), names)
    mutants = []
    for name in names:
        for index, (node, _, description) in enumerate(_points(functions[name])):
            mutants.append(Mutant(target, name, index, getattr(node, "lineno", 0), description))
    return source, mutants, functions


def mutated_source(source: str, function: Function, index: int) -> str:
    lines = source.splitlines(keepends=True)
    start = min([function.lineno] + [d.lineno for d in function.decorator_list]) - 1
    indent = " " * function.col_offset
    new = "".join(indent + line + "\n" for line in ast.unparse(_apply(function, index)).splitlines())
    return "".join(lines[:start]) + new + "".join(lines[function.end_lineno :])


def run_tests(workdir: Path, tests: list[str], timeout: float) -> str:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        "not faults and not browser",
        "-W",
        "ignore",
        *tests,
    ]
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    try:
        result = subprocess.run(
            command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return (
        "survived" if result.returncode == 0 else ("killed" if result.returncode == 1 else f"error{result.returncode}")
    )


def copy_repository(destination: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".git", "var", "artifacts", "__pycache__", ".pytest_cache", "*.sqlite3", "bench", ".hypothesis", "mutants"
    )
    shutil.copytree(REPO, destination, ignore=ignore, symlinks=True)


def mutant_diff(function: Function, index: int) -> str:
    """The mutated lines only: both sides unparsed, so formatting never shows up as a change."""
    before = ast.unparse(function).splitlines()
    after = ast.unparse(_apply(function, index)).splitlines()
    lines = difflib.unified_diff(before, after, lineterm="", n=1)
    return "\n".join(line for line in lines if not line.startswith(("---", "+++", "@@")))


def _selected(names: list[str] | None) -> set[str] | None:
    return {name.strip() for value in names for name in value.split(",") if name.strip()} if names else None


def _rerun_keys(path: str) -> set[tuple[str, str, int, str]]:
    """Survivors and timeouts of an earlier run (its --json file), to check them again."""
    earlier = json.loads(Path(path).read_text())
    return {
        (r["target"], r["function"], r["index"], r["description"])
        for r in earlier
        if r["outcome"] in {"survived", "timeout"}
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="See the module docstring.")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="default: all")
    parser.add_argument("--tests", nargs="+", help="test files to run instead of the target's")
    parser.add_argument("--timeout", type=float, default=240, help="seconds per mutant (a timeout kills it)")
    parser.add_argument(
        "--function",
        "--functions",
        action="append",
        help="only these functions, comma-separated or repeated (e.g. jobs_claim,AgentConsumer.deliver)",
    )
    parser.add_argument(
        "--mutant", action="append", metavar="FUNCTION#N", help="only this mutant (as listed), e.g. Agent._print#8"
    )
    parser.add_argument("--rerun", metavar="JSON", help="only the survivors and timeouts of an earlier run's --json")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--json", help="write every result here (default: var/mutate/run-<time>.json, not committed)")
    args = parser.parse_args(argv)
    targets = args.target or list(TARGETS)
    wanted = _selected(args.function)
    again = _rerun_keys(args.rerun) if args.rerun else None

    plan = []
    for target in targets:
        source, mutants, functions = mutants_of(target)
        if wanted:
            unknown = wanted - set(functions) - {n for t in TARGETS.values() for n in t[1] if t is not TARGETS[target]}
            if unknown:
                raise SystemExit(f"not a chosen function of any target: {', '.join(sorted(unknown))}")
            mutants = [m for m in mutants if m.function in wanted]
        if again is not None:
            mutants = [m for m in mutants if (m.target, m.function, m.index, m.description) in again]
        if args.mutant:
            mutants = [m for m in mutants if f"{m.function}#{m.index}" in args.mutant]
        plan.append((target, source, mutants, functions))
    if args.list:
        for _, _, mutants, _ in plan:
            for m in mutants:
                print(f"{TARGETS[m.target][0]}:{m.line} {m.function} #{m.index}: {m.description}")
        print(f"{sum(len(p[2]) for p in plan)} mutants")
        return 0

    json_path = Path(args.json) if args.json else REPO / "var" / "mutate" / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    results: list[tuple[Mutant, str, float]] = []

    def save() -> None:  # after every mutant: an interrupted run keeps what it measured
        rows = [
            m.__dict__
            | {"path": TARGETS[m.target][0], "outcome": outcome, "seconds": round(seconds, 1)}
            | ({"diff": diffs[(m.target, m.function, m.index)]} if outcome in {"survived", "timeout"} else {})
            for m, outcome, seconds in results
        ]
        json_path.write_text(json.dumps(rows, indent=1, ensure_ascii=False))

    diffs: dict[tuple[str, str, int], str] = {}
    # One mutant at a time (one worker): the machine is shared, and the tests start real servers.
    with tempfile.TemporaryDirectory(prefix="cantina-mutate-") as tmp:
        workdir = Path(tmp) / "repo"
        copy_repository(workdir)
        for target, source, mutants, functions in plan:
            if not mutants:
                continue
            path, _, default_tests = TARGETS[target]
            tests = args.tests or default_tests
            baseline = run_tests(workdir, tests, args.timeout * 2)
            if baseline != "survived":
                print(f"{target}: the tests fail without any mutant ({baseline}); fix that first", file=sys.stderr)
                return 2
            for number, mutant in enumerate(mutants, 1):
                function = functions[mutant.function]
                diffs[(target, mutant.function, mutant.index)] = mutant_diff(function, mutant.index)
                (workdir / path).write_text(mutated_source(source, function, mutant.index))
                began = time.monotonic()
                outcome = run_tests(workdir, tests, args.timeout)
                (workdir / path).write_text(source)
                results.append((mutant, outcome, time.monotonic() - began))
                save()
                print(
                    f"[{target} {number}/{len(mutants)}] {outcome:8} {path}:{mutant.line} {mutant.function} "
                    f"#{mutant.index}: {mutant.description} ({results[-1][2]:.0f} s)",
                    flush=True,
                )

    print("\nScore (killed / mutants; a timeout counts as killed but is listed: on a loaded machine it may")
    print("be a slow run of a survivor, so run it again with a longer --timeout and --rerun):")
    for target in targets:
        mine = [outcome for m, outcome, _ in results if m.target == target]
        killed = sum(outcome != "survived" for outcome in mine)
        timeouts = sum(outcome == "timeout" for outcome in mine)
        print(
            f"  {TARGETS[target][0]:24} {killed}/{len(mine)} = {killed / max(1, len(mine)):.0%} ({timeouts} by timeout)"
        )
    total_killed = sum(outcome != "survived" for _, outcome, _ in results)
    print(f"  {'total':24} {total_killed}/{len(results)} = {total_killed / max(1, len(results)):.0%}")
    for label, kind in (
        ("Survivors (kill each with a test, or explain why it is equivalent)", "survived"),
        ("Timed out (killed only if the run really hangs)", "timeout"),
    ):
        listed = [m for m, outcome, _ in results if outcome == kind]
        if listed:
            print(f"\n{label}:")
            for m in listed:
                print(f"  {TARGETS[m.target][0]}:{m.line} {m.function} #{m.index}: {m.description}")
                for line in diffs[(m.target, m.function, m.index)].splitlines():
                    print(f"      {line}")
    print(f"\nResults: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
