"""A printer shows offline when the server process holding its agent died without a goodbye."""

from datetime import timedelta

import pytest
from django.utils import timezone

from printing import services
from printing.models import Printer

pytestmark = pytest.mark.django_db


def test_printer_unseen_for_several_sweeps_is_marked_disconnected(make_printer):
    lost = make_printer("Perdida")
    alive = make_printer("Viva")
    Printer.objects.filter(pk=lost.pk).update(
        connected=True, connection_channel="specific.dead!x", last_seen_at=timezone.now() - timedelta(minutes=2)
    )
    Printer.objects.filter(pk=alive.pk).update(
        connected=True, connection_channel="specific.live!y", last_seen_at=timezone.now()
    )
    assert services.printers_mark_stale() == [lost.pk]
    assert list(Printer.objects.order_by("name").values_list("name", "connected", "connection_channel")) == [
        ("Perdida", False, ""),
        ("Viva", True, "specific.live!y"),
    ]


def test_a_touch_from_a_live_connection_marks_it_connected_again(make_printer):
    printer = make_printer()
    services.printers_touch([printer.pk])
    printer.refresh_from_db()
    assert printer.connected and printer.last_seen_at is not None
