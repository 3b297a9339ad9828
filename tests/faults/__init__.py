"""The fault suite: real processes broken on purpose, and a checker that counts what it cost.

    .venv/bin/python -m pytest tests/faults -s          # -s shows each scenario's counts

Scenarios (each marked ``faults`` and ``e2e``; about a minute each on two cores):

1. test_server_kill      daphne killed -9 twice and restarted on the same port
2. test_agent_kill       agents killed -9 at random moments and restarted
3. test_redis_restart    Redis restarted under two daphnes on PostgreSQL
4. test_network_cut      the agents' network cut and restored, through tests/faults/netproxy.py
5. test_driver_kill      the process confirming orders killed -9 at random moments

Each prints and saves (artifacts/faults/<scenario>.json) the checker's counts and the recovery
time, from the end of the last fault to an empty queue; a lost or duplicated receipt fails it.
CANTINA_FAULT_SEED replays the random ones. The checker (checker.py) is tested on synthetic
data in test_checker.py.
"""
