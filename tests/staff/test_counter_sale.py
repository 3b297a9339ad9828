"""Counter sale (Balcão) at /: pick products, confirm, the receipt prints."""

import json
import re

import pytest

from orders.models import Order
from printing.models import PrintJob
from tests.staff.conftest import messages_of

pytestmark = pytest.mark.django_db


def sale(*lines, **fields):
    return {
        "product": [str(product) for product, _quantity in lines],
        "quantity": [str(quantity) for _product, quantity in lines],
        "payment_method": "cash",
        **fields,
    }


def form_errors(response):
    return [str(error) for error in response.context["form"].non_field_errors()] + [
        str(error) for name in ("product", "quantity") for error in response.context["form"].errors.get(name, [])
    ]


def test_counter_shows_active_products_by_category(staff_client, products):
    products[2].is_active = False
    products[2].save()
    response = staff_client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert [category for category, _ in response.context["categories"]] == ["Bebidas", "Salgados"]
    assert "Pão de queijo" in body and "Suco de laranja" in body
    assert "Coxinha" not in body
    assert f'data-add-product="{products[0].pk}"' in body
    assert 'data-price="4.50"' in body
    assert "R$ 4.50" in body


def test_sale_confirms_the_order_and_queues_its_receipt(staff_client, products, printer, committed):
    bread, juice, _ = products
    with committed():
        response = staff_client.post("/", sale((bread.pk, 2), (juice.pk, 1), customer_name="Ana", payment_method="pix"))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/?order={order.pk}"
    assert (order.channel, order.status, order.customer_name, order.payment_method) == (
        "counter",
        "confirmed",
        "Ana",
        "pix",
    )
    assert [(item.name, item.quantity) for item in order.items.all()] == [("Pão de queijo", 2), ("Suco de laranja", 1)]
    job = PrintJob.objects.get(order=order)
    assert (job.printer, job.kind, job.status) == (printer, "order_receipt", "pending")

    page = staff_client.get(response["Location"])
    assert messages_of(page) == [f"Order {order.number} confirmed."]
    body = page.content.decode()
    assert f'data-order-jobs="{order.pk}"' in body
    assert "R$ 15.00" in body


def test_empty_cart_is_refused(staff_client, products):
    response = staff_client.post("/", sale())
    assert response.status_code == 200
    assert form_errors(response) == ["The order is empty: add at least one product."]
    assert not Order.objects.exists()


def test_inactive_product_is_refused_and_the_cart_comes_back(staff_client, products):
    bread, _, coxinha = products
    coxinha.is_active = False
    coxinha.save()
    response = staff_client.post("/", sale((bread.pk, 1), (coxinha.pk, 2)))
    assert form_errors(response) == ["“Coxinha” is no longer for sale: remove it from the order."]
    assert not Order.objects.exists()
    cart = json.loads(
        re.search(r'<script id="cart-initial" type="application/json">(.*?)</script>', response.content.decode()).group(
            1
        )
    )
    assert [(line["name"], line["quantity"], line["active"]) for line in cart] == [
        ("Pão de queijo", 1, True),
        ("Coxinha", 2, False),
    ]


@pytest.mark.parametrize("quantity", ["0", "-3", "100"])
def test_quantity_out_of_range_is_refused(staff_client, products, quantity):
    response = staff_client.post("/", sale((products[0].pk, quantity)))
    assert form_errors(response) == ["The quantity of “Pão de queijo” must be between 1 and 99."]
    assert not Order.objects.exists()


def test_quantity_that_is_not_a_number_is_refused(staff_client, products):
    response = staff_client.post("/", sale((products[0].pk, "two")))
    assert form_errors(response) == ["Quantities must be whole numbers from 1 to 99."]
    assert not Order.objects.exists()


def test_unknown_product_is_refused(staff_client, products):
    response = staff_client.post("/", sale((4242, 1)))
    assert form_errors(response) == ["Product #4242 does not exist."]


def test_line_without_quantity_is_refused(staff_client, products):
    data = sale((products[0].pk, 1))
    data["product"].append(str(products[1].pk))
    response = staff_client.post("/", data)
    assert form_errors(response) == ["Each cart line needs a product and a quantity."]
    assert not Order.objects.exists()


def test_payment_method_must_be_a_known_one(staff_client, products):
    response = staff_client.post("/", sale((products[0].pk, 1), payment_method="bitcoin"))
    assert "payment_method" in response.context["form"].errors
    assert not Order.objects.exists()


def test_counter_page_shows_only_counter_orders_as_the_last_sale(staff_client, make_order):
    scheduled = make_order(channel="scheduled", status="pending")
    response = staff_client.get(f"/?order={scheduled.pk}")
    assert response.context["last_order"] is None
