"""``python -m bench.receipts [--runs N]``: time to build one order receipt and render it to
ESC/POS, text and HTML (the per-job CPU cost on the server). Prints the figure; no threshold,
as everything in bench/ (moved here from the unit suite, where it asserted nothing)."""

import argparse
import os
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal


def measure(runs):
    from printing.receipts import (
        PrinterSpec,
        ReceiptItem,
        ReceiptOrder,
        ShopInfo,
        order_receipt,
    )
    from printing.rendering import render_escpos, render_html, render_text

    shop = ShopInfo("Cantina Escola Sol", "Rua das Flores, 123 - Centro", "Obrigado e bom apetite!")
    printers = (PrinterSpec("Balcão", paper_width=58), PrinterSpec("Cozinha", paper_width=80))
    order = ReceiptOrder(
        number="042",
        channel="counter",
        customer_name="Maria da Conceição",
        created_at=datetime(2025, 3, 5, 12, 30, tzinfo=timezone(timedelta(hours=-3))),
        items=(
            ReceiptItem("Pão de queijo", 2, Decimal("4.50")),
            ReceiptItem("Suco de laranja natural com acerola e hortelã (500 ml)", 1, Decimal("12.00")),
            ReceiptItem("Coxinha", 10, Decimal("123.45")),
        ),
        total=Decimal("1255.50"),
        payment_method="Pix",
        order_id=7,
        notes="Sem cebola",
    )
    for printer in printers:
        render_html(order_receipt(order, printer, shop), printer)  # warm caches
    started = time.perf_counter()
    for number in range(runs):
        printer = printers[number % 2]
        document = order_receipt(order, printer, shop, job_id=number)
        render_escpos(document, printer)
        render_text(document, printer)
        render_html(document, printer)
    return (time.perf_counter() - started) / runs * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.receipts", description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="receipts to render (default 200)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cantina.settings")
    import django

    django.setup()
    print(f"[receipts] build + ESC/POS + text + HTML: {measure(args.runs):.2f} ms per order receipt")


if __name__ == "__main__":
    main()
