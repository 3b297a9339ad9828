"""Fixtures of the contract tests."""

# The agent-side rules run against tests/agent's fake server, fake printer and in-process agent.
from tests.agent.conftest import fake_printer, fake_server, make_settings, run_agent  # noqa: E402,F401
