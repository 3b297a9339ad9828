"""The consumers' sweep (printing/consumers.py AgentRegistry.sweep): rules that a mutation run
(tools/mutate.py, issue 22) found unguarded by the fast tests. The sweep is called directly, once
per step, with the periodic one switched off (NO_SWEEP): nothing here waits on a timer."""

import time

import pytest
from channels.layers import get_channel_layer

from printing.consumers import GROUP_REFRESH_SECONDS, registry
from printing.groups import printer_group
from tests.contract.support import NO_SWEEP, create_printer, queue_test_page, receive, settled_agent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _no_sweep(settings):
    settings.CANTINA_SWEEP_INTERVAL = NO_SWEEP
    settings.CANTINA_AGENT_PING_INTERVAL = NO_SWEEP


def consumer_of(printer):
    [consumer] = [c for c in registry.consumers.values() if c.printer_id == printer.pk]
    return consumer


async def forget_groups(consumer):
    """What a restarted Redis does: it no longer knows the connection is in its printer's group."""
    await get_channel_layer().group_discard(printer_group(consumer.printer_id), consumer.channel_name)


async def pings_before_pong(agent):
    """Send a ping and count the server's pings that arrive before its pong (nothing else may)."""
    await agent.send_json_to({"type": "ping", "timestamp": "2026-11-29T10:00:00-03:00"})
    pings = 0
    while True:
        message = await agent.receive_json_from(timeout=10)
        if message["type"] == "pong":
            return pings
        assert message["type"] == "ping", message
        pings += 1


async def test_after_a_channel_layer_failure_the_sweep_joins_the_groups_again():
    """Kills the sweep's rejoin block: ``if self.rejoin_needed`` negated, ``rejoin_needed = False``
    → ``True``, ``not consumer.closing`` → ``closing``, ``and`` → ``or``, ``not await join_group()``
    → ``await join_group()``. Without the rejoin a wake-up, and a staff cancel, never arrive."""
    printer, token = await create_printer()
    agent = await settled_agent(token)
    consumer = consumer_of(printer)
    await forget_groups(consumer)
    registry.rejoin_needed = True  # a receive from the channel layer failed

    await registry.sweep()

    assert registry.rejoin_needed is False
    job = await queue_test_page(printer)  # its wake-up goes through the group
    assert (await receive(agent, "new_order"))["order"]["job_id"] == job.pk
    await agent.disconnect()


async def test_the_sweep_joins_the_group_again_once_an_hour():
    """Group membership expires in Redis (a day), agents stay for weeks: the sweep joins again
    when an hour has passed. Kills ``now - group_joined_at >= GROUP_REFRESH_SECONDS`` → ``<``."""
    printer, token = await create_printer()
    agent = await settled_agent(token)
    consumer = consumer_of(printer)
    await forget_groups(consumer)  # the membership expired
    consumer.group_joined_at = time.monotonic() - GROUP_REFRESH_SECONDS - 1

    await registry.sweep()

    job = await queue_test_page(printer)
    assert (await receive(agent, "new_order"))["order"]["job_id"] == job.pk
    await agent.disconnect()


async def test_the_sweep_pings_an_agent_only_when_its_ping_is_due(settings):
    """Kills ``now - last_ping_sent >= CANTINA_AGENT_PING_INTERVAL`` → ``<`` and
    ``consumer.last_ping_sent = now`` deleted (a ping at every sweep: 3 s, not 20 s)."""
    printer, token = await create_printer()
    agent = await settled_agent(token)
    consumer = consumer_of(printer)

    await registry.sweep()
    assert await pings_before_pong(agent) == 0  # not due

    # Due: no ping sent and nothing heard from the agent for a whole interval.
    consumer.last_ping_sent = consumer.last_heard = time.monotonic() - settings.CANTINA_AGENT_PING_INTERVAL - 1
    await registry.sweep()
    await registry.sweep()
    assert await pings_before_pong(agent) == 1  # due once, then not again
    await agent.disconnect()


async def test_while_the_channel_layer_is_still_down_the_sweep_tries_again_at_the_next_one(monkeypatch):
    """Kills the rejoin block's ``self.rejoin_needed = True  # still down`` → ``False``: one failed
    attempt would give up, and wake-ups and cancels would stay lost after Redis came back."""
    printer, token = await create_printer()
    agent = await settled_agent(token)
    consumer = consumer_of(printer)
    layer = get_channel_layer()

    async def redis_still_down(group, channel):
        raise ConnectionError("Connection refused (Redis restarting)")

    monkeypatch.setattr(layer, "group_add", redis_still_down)
    registry.rejoin_needed = True
    await registry.sweep()
    assert registry.rejoin_needed is True  # again at the next sweep

    monkeypatch.undo()  # Redis is back, and has forgotten the groups
    await forget_groups(consumer)
    await registry.sweep()
    assert registry.rejoin_needed is False
    job = await queue_test_page(printer)
    assert (await receive(agent, "new_order"))["order"]["job_id"] == job.pk
    await agent.disconnect()


async def test_a_retried_job_reaches_the_connected_agent_at_once_without_the_sweep():
    """Kills job_retry's ``transaction.on_commit(job_wakeup)`` deleted: the retried job would wait
    for the sweep (here: never)."""
    from channels.db import database_sync_to_async

    from printing import services
    from tests.contract.support import barrier, job_status, status

    printer, token = await create_printer()
    agent = await settled_agent(token)
    job = await queue_test_page(printer)
    assert (await receive(agent, "new_order"))["order"]["job_id"] == job.pk
    await status(agent, job.pk, "failed", error_code="bad_data", message="not printable")
    await barrier(agent)
    assert await job_status(job.pk) == "failed"

    await database_sync_to_async(services.job_retry)(job_id=job.pk)

    assert (await receive(agent, "new_order"))["order"]["job_id"] == job.pk
    await agent.disconnect()


async def test_a_job_in_flight_is_sent_again_only_after_a_reconnect_not_on_each_delivery():
    """Delivery rule 3: in-flight jobs are re-sent right after a (re)connect, and only then; a
    wake-up for a new job sends the new job alone. Kills AgentConsumer.deliver
    ``resend_in_flight=False`` → ``True`` (every ping, report and wake-up would send every
    unfinished job again)."""
    from tests.contract.support import barrier

    printer, token = await create_printer()
    agent = await settled_agent(token)
    first = await queue_test_page(printer)
    assert (await receive(agent, "new_order"))["order"]["job_id"] == first.pk  # in flight: no report yet

    second = await queue_test_page(printer)
    assert (await receive(agent, "new_order"))["order"]["job_id"] == second.pk
    assert await barrier(agent) == []  # a ping is a delivery check too: nothing more
    await agent.disconnect()
