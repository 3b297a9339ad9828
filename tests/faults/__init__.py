"""The fault suite: real processes broken on purpose, and a checker that counts what it cost.

    .venv/bin/python -m pytest tests/faults -s          # -s shows each scenario's counts

Scenarios (each marked ``faults`` and ``e2e``; about a minute each on two cores):

1. test_server_kill      daphne killed -9 twice and restarted on the same port
2. test_agent_kill       agents killed -9 at random moments and restarted
3. test_redis_restart    Redis restarted under two daphnes on PostgreSQL
4. test_network_cut      the agents' network cut and restored, through tests/faults/netproxy.py
5. test_driver_kill      the process confirming orders killed -9 at random moments

Round two (issue 19; sales also come over HTTP, tests/faults/seller.py):

r2-1. test_redis_hang          Redis stopped (SIGSTOP) 20 s under two daphnes, then SIGCONT
r2-2. test_redis_failover      the Redis primary killed; Sentinel promotes the replica
r2-3. test_postgres_restart    a private PostgreSQL (tests/faults/servers.py) stopped fast, then
                               immediate, for a few seconds each
r2-4. test_agent_disk_full     the agent's journal disk fills (a 4 MiB tmpfs, or an injected ENOSPC),
                               the agent is killed on it, then space returns
r2-5. test_stalled_printer     a printer stops reading mid-job; staff reprint the interrupted job
r2-6. test_rolling_restart     two daphnes behind a retrying proxy, each SIGTERMed and restarted

Every entrance (issue 19, item 7): r2-1, r2-3 and r2-6 also place orders through the print API
with an Idempotency-Key, retried blindly (api_client.py); r2-6 adds a Star CloudPRNT printer
polling through the proxy (cloud_station.py); scenario 2 (agent kills) adds a seed-002 ticket
client printing through an agent's local listener and resending on disconnect (local_client.py).
The counts are also given per entrance and per printer ("entrances", "printers" in the saved JSON).

Each prints and saves (artifacts/faults/<scenario>.json) the checker's counts and the recovery
time, from the end of the last fault to an empty queue; a lost or duplicated receipt fails it.
CANTINA_FAULT_SEED replays the random ones. The checker (checker.py) is tested on synthetic
data in test_checker.py.
"""
