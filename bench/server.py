"""Bench server: the real ``cantina.asgi:application`` under daphne, plus in-process confirmations.

Run as ``python -m bench.server --port PORT`` with the same environment variables as
``daphne cantina.asgi:application`` (DATABASE_URL, REDIS_URL, CANTINA_*). It builds daphne's
``Server`` with the options the ``daphne`` command uses by default (plus ``--websocket_timeout
-1``), and reads commands from the bench on stdin (``bench.control``).

Why confirm inside the server: with the in-memory channel layer only a consumer of the same
process can be woken (another process's confirmation would reach the agent only through the 3 s
sweep). So each confirmation runs here the way Django runs a sync view under daphne: in its own
``ThreadSensitiveContext``, through ``sync_to_async``, calling the real service
``orders.services.order_confirm`` — the ``post_save`` receiver, ``printing.services`` and the
wake-up through the channel layer are the production code, unchanged.

Routing: the product prints a confirmed order on every printer that auto-prints its channel and
has no notion of "this school's printer" yet. Many schools on one server means each order goes to
one printer, so the bench printers are added with ``--auto-print none`` and, right after the
confirm, the receipt job for the order's printer is queued with the very steps
``jobs_create_for_order`` runs for each printer (``_job_create`` with the order receipt).
"""

import argparse
import asyncio
import logging
import os
import random
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from bench.control import Confirmations

MENU = [
    ("Pão de queijo", "4.50"),
    ("Coxinha de frango", "7.25"),
    ("Suco de laranja natural", "6.00"),
    ("Açaí na tigela 300 ml", "14.90"),
    ("Misto-quente", "8.00"),
    ("Maçã", "2.50"),
    ("Água sem gás", "3.00"),
    ("Pastel de palmito", "7.50"),
    ("Vitamina de banana", "7.00"),
    ("Bolo de cenoura c/ chocolate", "5.50"),
    ("Esfiha de carne", "6.50"),
    ("Café com leite", "4.00"),
]
CUSTOMERS = ["Ana Luíza", "João Pedro", "Maria Conceição", "Lucas Araújo", "Júlia Gonçalves", "Caio Simões"]


def orders_create(count, seed):
    """``count`` pending counter orders of 2–5 items (bulk: their creation is not measured)."""
    from django.db import transaction

    from orders.models import Order, OrderItem

    rng = random.Random(seed)
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            Order(
                customer_name=rng.choice(CUSTOMERS),
                channel=Order.Channel.COUNTER,
                status=Order.Status.PENDING,
                number=f"B{seed % 100:02d}{index:05d}",
            )
            for index in range(count)
        )
        items = []
        for order in orders:
            for name, price in rng.sample(MENU, rng.randint(2, 5)):
                items.append(OrderItem(order=order, name=name, quantity=rng.randint(1, 3), unit_price=Decimal(price)))
        OrderItem.objects.bulk_create(items)
    return [order.pk for order in orders]


def confirm_for_printer(order_id, printer_id):
    """What a counter sale does, with the receipt routed to one printer (see the module docstring)."""
    from django.db import close_old_connections, transaction

    from orders.models import Order
    from orders.services import order_confirm
    from printing import services, statements
    from printing.models import Printer, PrintJob

    try:
        order_confirm(order_id=order_id)
        order = Order.objects.get(pk=order_id)
        lines = statements.order_lines(order_id)  # as services.jobs_create_for_order reads them
        printer = Printer.objects.get(pk=printer_id)
        with transaction.atomic():
            services._job_create(
                printer=printer,
                kind=PrintJob.Kind.ORDER_RECEIPT,
                order=order,
                priority=services.PRIORITY_BY_CHANNEL.get(order.channel, 5),
                build=lambda job: services._order_document(job, order, lines, reprint=False),
            )
    finally:
        close_old_connections()  # as request_finished does after a view


def jobs_done(first, last, until=None):
    """Jobs by status of the orders first..last, the last finished_at (epoch seconds), and how
    many were completed by ``until`` (epoch seconds, when given)."""
    from django.db import close_old_connections
    from django.db.models import Count, Max

    from printing.models import PrintJob

    try:
        jobs = PrintJob.objects.filter(order_id__gte=first, order_id__lte=last)
        by_status = dict(jobs.values_list("status").annotate(n=Count("pk")).order_by())
        completed = jobs.filter(status=PrintJob.Status.COMPLETED)
        last = completed.aggregate(last=Max("finished_at"))["last"]
        completed_by = None
        if until is not None:
            moment = datetime.fromtimestamp(until, tz=UTC)
            completed_by = completed.filter(finished_at__lte=moment).count()
        return by_status, last.timestamp() if last else None, completed_by
    finally:
        close_old_connections()


class ProjectConfirmations(Confirmations):
    """Each confirmation as Django runs a sync view under daphne: own context, sync_to_async."""

    async def confirm_one(self, order_id, printer_id):
        from asgiref.sync import ThreadSensitiveContext, sync_to_async

        async with ThreadSensitiveContext():
            await sync_to_async(confirm_for_printer)(order_id, printer_id)

    async def orders_create(self, count, seed=1):
        from asgiref.sync import sync_to_async

        return await sync_to_async(orders_create, thread_sensitive=False)(count, seed)

    async def jobs_done(self, first, last, expect, timeout=60, until=None):
        """Wait until ``expect`` jobs of orders first..last are completed in the database."""
        from asgiref.sync import sync_to_async

        deadline = time.monotonic() + timeout
        while True:
            by_status, last_finished, completed_by = await sync_to_async(jobs_done, thread_sensitive=False)(
                first, last, until
            )
            if by_status.get("completed", 0) >= expect or time.monotonic() > deadline:
                return {"by_status": by_status, "last_finished_at": last_finished, "completed_by": completed_by}
            await asyncio.sleep(0.25)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cantina.settings")
    # As the daphne command does (verbosity 1): INFO logging and an access log, here to stderr.
    logging.basicConfig(level=logging.INFO, format="%(asctime)-15s %(levelname)-8s %(message)s")
    sys.path.insert(0, ".")

    from daphne.access import AccessLogGenerator
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server, twisted_loop  # installs the asyncio reactor first

    from bench.control import ControlServer
    from cantina.asgi import application

    server = None

    def ready():
        from twisted.internet import reactor

        loop = twisted_loop
        ControlServer(ProjectConfirmations().handlers(), loop, on_eof=lambda: reactor.callLater(0, server.stop)).start()

    server = Server(
        application=application,
        endpoints=build_endpoint_description_strings(host="127.0.0.1", port=args.port),
        websocket_timeout=-1,
        websocket_connect_timeout=5,
        websocket_handshake_timeout=5,
        action_logger=AccessLogGenerator(sys.stderr),
        ready_callable=ready,
    )
    server.run()


if __name__ == "__main__":
    main()
