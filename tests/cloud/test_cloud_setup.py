"""Adding cloud printers (printer_add, printer_token, admin) and the ePOS-Print XML renderer."""

import base64
import io
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from printing import services
from printing.cloud.services import digest_ha1
from printing.models import Printer
from printing.receipts import (
    PrinterSpec,
    ReceiptItem,
    ReceiptOrder,
    ShopInfo,
    order_receipt,
)
from printing.rendering.to_epos_xml import EPOS_PRINT_NAMESPACE, render_epos_xml

NS = "{" + EPOS_PRINT_NAMESPACE + "}"


def add(*args):
    output = io.StringIO()
    call_command("printer_add", *args, stdout=output)
    return output.getvalue().strip().splitlines()


@pytest.mark.django_db
def test_printer_add_cloudprnt_prints_the_secret_alone_on_the_last_line():
    lines = add("Balcão Star", "--transport", "cloudprnt", "--mac", "00-11-62-AA-BB-CC", "--paper-width", "58")
    secret = lines[-1]
    printer = Printer.objects.get(name="Balcão Star")
    assert printer.transport == "cloudprnt" and printer.mac == "00:11:62:aa:bb:cc" and printer.paper_width == 58
    assert printer.token_matches(secret) and secret.startswith("cp_") and len(secret) <= 30
    assert "/cloudprnt/" in lines[0]
    assert services.printer_authenticate(secret) is None  # not an agent token


@pytest.mark.django_db
def test_printer_add_epson_sets_digest_credentials():
    lines = add("Cozinha", "--transport", "epson_sdp", "--device-id", "cozinha-01", "--poll-interval", "3")
    secret = lines[-1]
    printer = Printer.objects.get(name="Cozinha")
    assert printer.transport == "epson_sdp" and printer.device_id == "cozinha-01" and printer.poll_interval == 3
    assert printer.digest_ha1 == digest_ha1("cozinha-01", secret)
    assert len(secret) <= 30 and all(c.isalnum() or c in "_.-" for c in secret)
    assert "/epson/sdp/" in lines[0]
    # printer_token issues a new secret the same way; the old one stops working.
    output = io.StringIO()
    call_command("printer_token", "Cozinha", stdout=output)
    new = output.getvalue().strip().splitlines()[-1]
    printer.refresh_from_db()
    assert printer.token_matches(new) and not printer.token_matches(secret)
    assert printer.digest_ha1 == digest_ha1("cozinha-01", new)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--transport", "cloudprnt"], "--mac"),
        (["--transport", "cloudprnt", "--mac", "00:11:62:AA:BB"], "MAC address"),
        (["--transport", "epson_sdp"], "--device-id"),
        (["--transport", "epson_sdp", "--device-id", "has spaces"], "--device-id"),
        (["--mac", "00:11:62:AA:BB:CC"], "cloud printers"),
        (["--transport", "cloudprnt", "--mac", "00:11:62:AA:BB:CC", "--poll-interval", "0"], "--poll-interval"),
    ],
)
def test_printer_add_explains_bad_cloud_options(args, message):
    with pytest.raises(CommandError, match=message):
        add("X", *args)
    assert not Printer.objects.exists()


@pytest.mark.django_db
def test_printer_add_refuses_a_mac_already_used():
    add("A", "--transport", "cloudprnt", "--mac", "00:11:62:AA:BB:CC")
    with pytest.raises(CommandError, match="already exists"):
        add("B", "--transport", "cloudprnt", "--mac", "00:11:62:aa:bb:cc")


@pytest.fixture
def manager_client(client, db):
    from django.contrib.auth import get_user_model

    manager = get_user_model().objects.create_superuser("gerente", password="gerente-pass-123")
    client.force_login(manager)
    return client


def test_admin_adds_a_cloudprnt_printer_and_shows_url_and_credentials(manager_client):
    form = {
        "name": "Star",
        "location": "",
        "paper_width": 80,
        "profile": "",
        "has_cutter": "on",
        "copies": 1,
        "is_active": "on",
        "auto_print": ["counter"],
        "transport": "cloudprnt",
        "mac": "00:11:62:aa:bb:cd",
        "device_id": "",
        "poll_interval": 5,
    }
    response = manager_client.post(reverse("admin:printing_printer_add"), form, secure=True)
    assert response.status_code == 200, response.content[:2000]
    printer = Printer.objects.get(name="Star")
    item = response.context["issued"][0]
    assert item["cloud"] and item["url"] == "https://testserver/cloudprnt/"
    assert printer.token_matches(item["token"])
    html = response.content.decode()
    assert item["token"] in html and "https://testserver/cloudprnt/" in html and "python -m agent" not in html
    change = manager_client.get(reverse("admin:printing_printer_change", args=[printer.pk]), secure=True)
    assert "https://testserver/cloudprnt/" in change.content.decode()
    assert item["token"] not in change.content.decode()


def test_admin_refuses_a_cloud_printer_without_its_identity(manager_client):
    form = {
        "name": "Epson",
        "location": "",
        "paper_width": 80,
        "profile": "",
        "has_cutter": "on",
        "copies": 1,
        "is_active": "on",
        "auto_print": ["counter"],
        "transport": "epson_sdp",
        "mac": "",
        "device_id": "",
        "poll_interval": 5,
    }
    response = manager_client.post(reverse("admin:printing_printer_add"), form)
    assert response.status_code == 200 and not Printer.objects.exists()
    assert "device_id" in response.context["adminform"].form.errors


def _receipt(printer):
    order = ReceiptOrder(
        number="042",
        channel="counter",
        customer_name="Conceição",
        created_at=timezone.now(),
        items=(ReceiptItem("Pão de queijo", 2, Decimal("4.50")),),
        total=Decimal("9.00"),
        order_id=42,
    )
    return order_receipt(order, printer, ShopInfo(name="Cantina", address="", footer="Obrigado"), job_id=7)


@pytest.mark.parametrize("paper, dots", [(58, 384), (80, 576)])
def test_epos_xml_has_styled_text_qr_and_cut_and_rasters_images_at_the_printer_width(paper, dots):
    printer = PrinterSpec(name="Epson", paper_width=paper)
    document = _receipt(printer)
    png = io.BytesIO()
    from PIL import Image

    Image.new("1", (100, 10), 0).save(png, format="PNG")
    extra = [
        {"type": "image", "data": {"code": base64.b64encode(png.getvalue()).decode()}},
        {"type": "barcode", "data": {"symbology": "code128", "data": "ABC-42"}},
    ]
    # A validated receipt is never changed in place: a new dict is validated again.
    document = {**document, "commands": [*document["commands"], *extra]}
    root = ET.fromstring(render_epos_xml(document, printer, copies=2))
    assert root.tag == NS + "epos-print"
    texts = root.findall(NS + "text")
    joined = "".join(t.text or "" for t in texts)
    assert joined.count("042") >= 2 and "Conceição" in joined and "Pão de queijo" in joined
    assert any(t.get("em") == "true" for t in texts)
    assert all(len(line) <= (32 if paper == 58 else 48) for line in joined.split("\n"))
    assert len(root.findall(NS + "cut")) == 2
    assert root.find(NS + "symbol").get("type") == "qrcode_model_2"
    barcode = root.find(NS + "barcode")
    assert barcode.get("type") == "code128" and barcode.text == "{BABC-42"
    image = root.find(NS + "image")
    width, height = int(image.get("width")), int(image.get("height"))
    assert width == dots and height == 10
    raster = base64.b64decode(image.text)
    assert len(raster) == width // 8 * height
    assert any(raster) and not all(byte == 0xFF for byte in raster)  # black block, white margins


def test_epos_xml_without_cutter_feeds_instead_and_control_characters_do_not_break_the_xml():
    printer = PrinterSpec(name="Epson", paper_width=80, has_cutter=False)
    document = {"commands": [{"type": "text", "data": {"content": {"text": "bell\x07 ok"}}}, {"type": "cut"}]}
    root = ET.fromstring(render_epos_xml(document, printer))
    assert root.find(NS + "cut") is None and root.find(NS + "feed") is not None
    text = "".join(t.text or "" for t in root.findall(NS + "text"))
    assert "bell" in text and "ok" in text and "\x07" not in text
