"""Pytest hooks (imported by tests/conftest.py) so that CI never passes silently."""

import os
import re

import pytest

# With CI=true a test skipped because a required service is missing (Redis, Chromium,
# PostgreSQL, fonts, gettext, the shared poster examples) fails the run instead: CI installs
# them all (./dev), so such a skip means CI tests less than it claims. Other skips (openssl,
# systemd-analyze: optional tools) stay skips, and every skip is listed by name at the end.
REQUIRED_SERVICE_SKIP = re.compile(r"redis|chromium|postgres|pg_ctlcluster|font|gettext|poster examples", re.IGNORECASE)


def in_ci():
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _skip_reason(report):
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and in_ci():
        reason = _skip_reason(report)
        if REQUIRED_SERVICE_SKIP.search(reason):
            report.outcome = "failed"
            report.longrepr = (
                f"CI=true and a required service is missing, so this test may not skip: {reason}\n"
                "Install it (./dev installs Redis, Chromium, PostgreSQL, fonts and gettext) or fix the CI image."
            )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if not hasattr(r, "wasxfail")]
    if not skipped:
        return
    terminalreporter.section(f"{len(skipped)} skipped test(s), by name")
    for report in skipped:
        terminalreporter.write_line(f"SKIPPED {report.nodeid}: {_skip_reason(report)}")
    if in_ci():
        terminalreporter.write_line("(CI=true: none of these needs a required service; see tests/conftest.py)")
