"""``python -m bench.raster_receipt [--out DIR] [--runs N]``: time raster rendering of receipts.

Renders a typical Portuguese receipt and a Chinese one (the drink shop of seed 001) on 58 and
80 mm printers without GB18030, as PNG (CloudPRNT, previews) and as ESC/POS (the Chinese lines as
``GS v 0`` raster, or everything with ``raster_only``), and prints the median time of each. With
``--out`` the PNGs are written there to be looked at. No Django needed (labels in Portuguese).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from printing.receipts import (
    PrinterSpec,
    ReceiptItem,
    ReceiptOrder,
    ShopInfo,
    order_receipt,
)
from printing.rendering import render_escpos, render_png

BRASILIA = timezone(timedelta(hours=-3))

TYPICAL = ReceiptOrder(
    number="042",
    channel="counter",
    customer_name="Maria da Conceição",
    created_at=datetime(2026, 11, 29, 12, 30, tzinfo=BRASILIA),
    items=(
        ReceiptItem("Pão de queijo", 2, Decimal("4.50")),
        ReceiptItem("Suco de laranja", 1, Decimal("6.00")),
        ReceiptItem("Coxinha", 3, Decimal("7.25")),
    ),
    total=Decimal("36.75"),
    payment_method="Pix",
    notes="Sem cebola",
)
CHINESE = ReceiptOrder(
    number="456",
    channel="scheduled",
    customer_name="王小明",
    created_at=datetime(2026, 11, 29, 10, 30, tzinfo=BRASILIA),
    scheduled_for=datetime(2026, 11, 29, 11, 0, tzinfo=BRASILIA),
    items=(
        ReceiptItem("珍珠奶茶 大杯 正常冰 正常糖", 1, Decimal("25.00")),
        ReceiptItem("芒果冰沙", 2, Decimal("18.00")),
        ReceiptItem("鸡蛋仔", 1, Decimal("12.00")),
    ),
    total=Decimal("73.00"),
    notes="少冰，半糖，谢谢",
)
CHINESE_SHOP = ShopInfo("招财猫饮品店", "人民路 88 号", "谢谢惠顾，欢迎再来")
SHOP = ShopInfo("Cantina Escola Sol", "Rua das Flores, 123 - Centro", "Obrigado e bom apetite!")


def _median_ms(function, runs: int) -> float:
    function()  # warm caches (fonts, glyphs, QR)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.raster_receipt", description=__doc__)
    parser.add_argument("--out", help="directory to write the PNGs to")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    cases = [
        ("typical", TYPICAL, SHOP),
        ("chinese", CHINESE, CHINESE_SHOP),
    ]
    print(f"{'receipt':<9} {'paper':<6} {'PNG ms':>8} {'ESC/POS ms':>11} {'raster_only ms':>15} {'PNG bytes':>10}")
    for name, order, shop in cases:
        for paper in (58, 80):
            printer = PrinterSpec(f"{paper} mm", paper)  # generic profile: no GB18030
            raster_printer = PrinterSpec(f"{paper} mm raster", paper, raster_only=True)
            document = order_receipt(order, printer, shop, job_id=123)
            png = render_png(document, printer)
            png_ms = _median_ms(lambda: render_png(document, printer), args.runs)  # noqa: B023
            escpos_ms = _median_ms(lambda: render_escpos(document, printer), args.runs)  # noqa: B023
            raster_ms = _median_ms(lambda: render_escpos(document, raster_printer), args.runs)  # noqa: B023
            print(f"{name:<9} {paper:<6} {png_ms:>8.2f} {escpos_ms:>11.2f} {raster_ms:>15.2f} {len(png):>10}")
            if out:
                (out / f"{name}_receipt_{paper}mm.png").write_bytes(png)
    # Cold: a new process's first Chinese receipt (fonts loaded, glyphs drawn) is the slowest.


if __name__ == "__main__":
    main()
