"""DESIGN.md close codes: 4401, 4403, 4409, 4413, 4429, each at connect and while connected.

"While connected" is tested twice: at once (the sweep disabled, so the staff action's re-check
message must do it) and by the sweep alone (the re-check message lost)."""

import pytest
from channels.db import database_sync_to_async

from printing import notify, services
from printing.models import Printer
from tests.contract.support import (
    NO_SWEEP,
    assert_closed_with,
    barrier,
    connect,
    connect_agent,
    create_printer,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _no_sweep(settings):
    settings.CANTINA_SWEEP_INTERVAL = NO_SWEEP
    settings.CANTINA_AGENT_PING_INTERVAL = NO_SWEEP


@database_sync_to_async
def revoke(printer_id):
    services.printer_revoke_token(printer=Printer.objects.get(pk=printer_id))


@database_sync_to_async
def rotate(printer_id):
    return services.printer_issue_token(printer=Printer.objects.get(pk=printer_id))


@database_sync_to_async
def disable(printer_id):
    services.printer_set_active(printer=Printer.objects.get(pk=printer_id), active=False)


@pytest.mark.parametrize("token", ["", "cp_" + "x" * 43])
async def test_4401_missing_or_wrong_token(token):
    await create_printer()
    await assert_closed_with(await connect(token), 4401)


async def test_4401_revoked_token_at_connect():
    printer, token = await create_printer()
    await revoke(printer.pk)
    await assert_closed_with(await connect(token), 4401)


@pytest.mark.parametrize("action", [revoke, rotate], ids=["revoke", "rotate"])
async def test_4401_token_revoked_or_rotated_while_connected_closes_at_once(action):
    printer, token = await create_printer()
    agent = await connect_agent(token)

    await action(printer.pk)

    await assert_closed_with(agent, 4401)


@pytest.mark.parametrize("action", [revoke, rotate], ids=["revoke", "rotate"])
async def test_4401_token_revoked_while_connected_closes_by_the_sweep_when_the_recheck_is_lost(
    settings, monkeypatch, action
):
    settings.CANTINA_SWEEP_INTERVAL = 1
    monkeypatch.setattr(notify, "agent_recheck", lambda printer_id: None)
    printer, token = await create_printer()
    agent = await connect_agent(token)

    await action(printer.pk)

    await assert_closed_with(agent, 4401, timeout=15)


async def test_4403_disabled_printer_at_connect():
    _, token = await create_printer(is_active=False)
    await assert_closed_with(await connect(token), 4403)


async def test_4403_printer_disabled_while_connected_closes_at_once():
    printer, token = await create_printer()
    agent = await connect_agent(token)

    await disable(printer.pk)

    await assert_closed_with(agent, 4403)


async def test_4403_printer_disabled_while_connected_closes_by_the_sweep_when_the_recheck_is_lost(
    settings, monkeypatch
):
    settings.CANTINA_SWEEP_INTERVAL = 1
    monkeypatch.setattr(notify, "agent_recheck", lambda printer_id: None)
    printer, token = await create_printer()
    agent = await connect_agent(token)

    await disable(printer.pk)

    await assert_closed_with(agent, 4403, timeout=15)


async def test_4409_a_newer_connection_of_the_same_printer_replaces_the_older():
    _, token = await create_printer()
    older = await connect_agent(token)
    newer = await connect_agent(token)

    await assert_closed_with(older, 4409)
    assert await barrier(newer) == []  # the newer one stays
    await newer.disconnect()


async def test_4409_by_the_sweep_when_the_replaced_message_is_lost(settings):
    settings.CANTINA_SWEEP_INTERVAL = 1
    printer, token = await create_printer()
    older = await connect_agent(token)
    # Another process took the printer over (its replaced message never came here).
    await database_sync_to_async(services.printer_connected)(printer_id=printer.pk, channel_name="elsewhere")

    await assert_closed_with(older, 4409, timeout=15)


async def test_4413_a_message_over_64_kib_closes():
    _, token = await create_printer()
    agent = await connect_agent(token)

    await agent.send_to(text_data='{"type":"ping","pad":"' + "x" * (64 * 1024) + '"}')

    await assert_closed_with(agent, 4413)


async def test_a_message_of_64_kib_or_less_does_not_close():
    _, token = await create_printer()
    agent = await connect_agent(token)
    padding = 64 * 1024 - len('{"type":"ping","pad":""}')

    await agent.send_to(text_data='{"type":"ping","pad":"' + "x" * padding + '"}')

    assert (await agent.receive_json_from(timeout=10))["type"] == "pong"
    await agent.disconnect()


async def test_4429_flooding_with_unsolicited_messages_closes(settings):
    settings.CANTINA_AGENT_MAX_MESSAGES_PER_SECOND = 1  # a burst of 8 allowed
    _, token = await create_printer()
    agent = await connect_agent(token)

    for _ in range(40):
        await agent.send_json_to({"type": "no_such_type"})

    await assert_closed_with(agent, 4429)
