"""Redis going away must not drop agents: jobs keep flowing from the database, and wake-ups
resume when Redis is back."""

import asyncio
import json
import shutil
import time

import pytest
import websockets

from tools.processes import DaphneServer, RedisServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.redis,
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


def test_agent_connection_survives_a_redis_outage_and_keeps_receiving_jobs(tmp_path):
    redis = RedisServer(tmp_path).start()
    try:
        with DaphneServer(tmp_path / "server", REDIS_URL=redis.url, CANTINA_SWEEP_INTERVAL=2) as server:
            token = server.manage.add_printer("Balcão")

            async def main():
                async with websockets.connect(f"{server.agent_url}?token={token}") as websocket:

                    async def next_job(timeout):
                        async with asyncio.timeout(timeout):
                            while True:
                                message = json.loads(await websocket.recv())
                                if message["type"] == "new_order":
                                    job = message["order"]
                                    await websocket.send(
                                        json.dumps(
                                            {"type": "print_status", "job_id": job["job_id"], "status": "completed"}
                                        )
                                    )
                                    return job

                    await asyncio.sleep(0.3)
                    redis.stop()
                    # Confirmed during the outage: the wake-up is lost, the sweep delivers it.
                    during = await asyncio.to_thread(server.manage.confirm_orders, 1)
                    job = await next_job(15)
                    assert job["order_id"] == during[0]
                    redis.start()  # same port, empty memory: a restart without persistence
                    await asyncio.sleep(3)  # let the consumer's receive loop reconnect
                    started = time.monotonic()
                    after = await asyncio.to_thread(server.manage.confirm_orders, 1)
                    job = await next_job(15)
                    assert job["order_id"] == after[0]
                    return websocket.close_code, time.monotonic() - started

            close_code, elapsed = asyncio.run(main())
            assert close_code is None, "the agent's connection stayed open through the outage"
            assert "Exception inside application" not in server.log()
    finally:
        redis.stop()
