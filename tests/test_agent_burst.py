"""A burst of 1,000 jobs to one printer whose client acknowledges every job at once.

Seed 001's example client answers each ``new_order`` with ``print_status`` at once. Those are
replies the server asked for: they never count toward the flood limit (DESIGN.md, protocol v1),
so the whole burst completes with the default limit and the connection is never closed with
4429. (Before, such a client was cut off after about 240 jobs.)
"""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from cantina.asgi import application
from printing.models import Printer, PrintJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(300)]

JOBS = 1000


@database_sync_to_async
def printer_with_burst(make_printer):
    printer = make_printer("Balcão", status=Printer.Status.READY)
    PrintJob.objects.bulk_create(
        PrintJob(printer=printer, kind=PrintJob.Kind.RAW, content=f"Pedido {n}", escpos=b"\x1b@ok\n", priority=1)
        for n in range(JOBS)
    )
    return printer


@database_sync_to_async
def completed(printer):
    return PrintJob.objects.filter(printer=printer, status=PrintJob.Status.COMPLETED).count()


async def test_a_client_that_acknowledges_at_once_gets_the_whole_burst_without_4429(settings, make_printer):
    assert settings.CANTINA_AGENT_MAX_MESSAGES_PER_SECOND == 20, "this test is about the default limit"
    printer = await printer_with_burst(make_printer)
    agent = WebsocketCommunicator(application, f"/ws/agent/?token={printer.token}")
    assert (await agent.connect())[0]
    received = []
    while len(received) < JOBS:
        output = await agent.receive_output(timeout=30)
        assert output["type"] != "websocket.close", f"closed with {output.get('code')} after {len(received)} jobs"
        message = json.loads(output["text"])
        if message["type"] != "new_order":
            continue
        job_id = message["order"]["job_id"]
        received.append(job_id)
        await agent.send_json_to({"type": "print_status", "job_id": job_id, "status": "received"})
        await agent.send_json_to({"type": "print_status", "job_id": job_id, "status": "completed"})

    assert len(set(received)) == JOBS, "a job was sent twice"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while await completed(printer) < JOBS and loop.time() < deadline:  # last acknowledgements
        await asyncio.sleep(0.05)
    assert await completed(printer) == JOBS, "not every job completed"
    # Still connected, and nothing sent again (server pings may come): a close would show here.
    while not await agent.receive_nothing(timeout=0.5):
        output = await agent.receive_output()
        assert output["type"] != "websocket.close", f"closed with {output.get('code')}"
        assert json.loads(output["text"])["type"] == "ping", output
    await agent.disconnect()
