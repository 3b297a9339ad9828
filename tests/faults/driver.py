"""Confirms orders in batches, in its own process, while the fault scenarios break things.

    python -m tests.faults.driver --orders 300 --batch 10 --interval 0.5 --out ids.jsonl

Configured by the same environment variables as the server (DATABASE_URL, REDIS_URL...). Each
order is created ``pending`` with items, then saved ``confirmed`` (the contract: the post_save
receiver creates its print jobs after commit), in its own transaction. Channels alternate
counter/scheduled. After each batch one JSON line ``{"order_id": channel, ...}`` is appended to
``--out`` and fsynced, so the test knows every confirmed order even if this process dies.
Database errors (a locked SQLite file while a server is killed, PostgreSQL restarting) are
retried, never skipped.
"""

import argparse
import json
import os
import sys
import time

CHANNELS = ("counter", "scheduled")


def create_order(number, channel, items=2):
    from decimal import Decimal

    from django.db import transaction

    from orders.models import Order, OrderItem

    with transaction.atomic():
        order = Order.objects.create(customer_name=f"Cliente {number}", channel=channel, status="pending")
        OrderItem.objects.create(order=order, name="Pão de queijo", quantity=1 + number % 3, unit_price=Decimal("4.50"))
        OrderItem.objects.create(order=order, name="Suco de laranja", quantity=1, unit_price=Decimal("6.00"))
        for extra in range(items - 2):  # longer receipts, for a printer that stalls mid-job
            OrderItem.objects.create(
                order=order, name=f"Salgado sortido {extra + 1}", quantity=1, unit_price=Decimal("3.00")
            )
    return order


def confirm(order):
    """Save it confirmed (autocommit: the receiver's on_commit creates the jobs right away).

    If the save fails after its commit (say, creating the jobs hit a locked database), the order
    is confirmed all the same: it is recorded, and the checker judges what became of it.
    """
    from orders.models import Order

    if Order.objects.filter(pk=order.pk, status="confirmed").exists():
        return
    order.status = "confirmed"
    order.save()


def with_retries(action, attempts=20):
    from django.db import InterfaceError, OperationalError, close_old_connections

    for attempt in range(attempts):
        try:
            return action()
        except (OperationalError, InterfaceError) as error:  # a locked SQLite file, PostgreSQL restarting
            if attempt == attempts - 1:
                raise
            print(f"driver: database error, retrying: {error}", file=sys.stderr, flush=True)
            close_old_connections()
            time.sleep(0.5)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between batches")
    parser.add_argument("--first", type=int, default=0, help="number of the first order (names only)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--items", type=int, default=2, help="items per order (2 or more)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    number = args.first
    remaining = args.orders
    with open(args.out, "a", encoding="utf-8") as out:
        while remaining > 0:
            started = time.monotonic()
            confirmed = {}
            for _ in range(min(args.batch, remaining)):
                channel = CHANNELS[number % len(CHANNELS)]
                order = with_retries(lambda number=number, channel=channel: create_order(number, channel, args.items))
                with_retries(lambda order=order: confirm(order))
                confirmed[order.pk] = channel
                number += 1
            remaining -= len(confirmed)
            out.write(json.dumps(confirmed) + "\n")
            out.flush()
            os.fsync(out.fileno())
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    print(f"driver: confirmed {args.orders} orders", flush=True)
    return 0


def read_orders(path):
    """{order_id: channel} of every batch the driver recorded."""
    orders = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    orders.update({int(key): value for key, value in json.loads(line).items()})
    return orders


if __name__ == "__main__":
    sys.exit(main())
