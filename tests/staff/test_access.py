"""Only staff use the staff pages: visitors are sent to log in, other accounts get 403."""

import pytest

from orders.models import Order
from printing.models import PrintJob

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/scheduled/",
    "/scheduled/new/",
    "/printers/",
    "/printers/status",
    "/jobs/",
    "/jobs/status?order={order}",
    "/jobs/{job}/",
]
ACTIONS = [
    "/",
    "/scheduled/new/",
    "/orders/{order}/confirm/",
    "/orders/{order}/ready/",
    "/orders/{order}/delivered/",
    "/orders/{order}/cancel/",
    "/orders/{order}/reprint/",
    "/printers/{printer}/test-print/",
    "/jobs/{job}/reprint/",
    "/jobs/{job}/retry/",
    "/jobs/{job}/cancel/",
]


@pytest.fixture
def objects(make_printer, make_order, products, django_capture_on_commit_callbacks):
    printer = make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed")
    job = PrintJob.objects.get(order=order)
    return {"order": order.pk, "printer": printer.pk, "job": job.pk, "product": products[0].pk}


def sale(objects):
    return {"product": [objects["product"]], "quantity": ["1"], "payment_method": "cash"}


def snapshot():
    return (
        list(Order.objects.order_by("id").values_list("id", "status")),
        list(PrintJob.objects.order_by("id").values_list("id", "status", "kind")),
    )


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitor_is_sent_to_the_login_page(anonymous_client, objects, page):
    url = page.format(**objects)
    response = anonymous_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_visitor_cannot_act(anonymous_client, objects, action):
    before = snapshot()
    response = anonymous_client.post(action.format(**objects), sale(objects))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert snapshot() == before


@pytest.mark.parametrize("page", PAGES)
def test_account_without_staff_access_is_refused(customer_client, objects, page):
    response = customer_client.get(page.format(**objects))
    assert response.status_code == 403


@pytest.mark.parametrize("action", ACTIONS)
def test_account_without_staff_access_cannot_act(customer_client, objects, action):
    before = snapshot()
    response = customer_client.post(action.format(**objects), sale(objects))
    assert response.status_code == 403
    assert snapshot() == before


def test_refusal_page_names_the_account_and_offers_to_log_out(customer_client):
    response = customer_client.get("/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "“bob” cannot use the staff pages" in body
    assert 'action="/accounts/logout/"' in body


@pytest.mark.parametrize("action", ACTIONS)
def test_post_without_csrf_token_is_refused(csrf_client, objects, action):
    before = snapshot()
    response = csrf_client.post(action.format(**objects), sale(objects))
    assert response.status_code == 403
    assert snapshot() == before


def test_post_with_csrf_token_goes_through(csrf_client, objects):
    csrf_client.get("/")
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post("/", {**sale(objects), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Order.objects.count() == 2


def test_login_page_logs_staff_in_and_goes_to_the_counter(anonymous_client, staff_user):
    page = anonymous_client.get("/accounts/login/?next=/")
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    response = anonymous_client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-pass-123", "next": "/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert anonymous_client.get("/").status_code == 200


def test_login_with_a_wrong_password_says_so(anonymous_client, staff_user):
    response = anonymous_client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Wrong username or password" in response.content.decode()


def test_logout_is_a_post_from_every_page(staff_client):
    body = staff_client.get("/").content.decode()
    assert 'action="/accounts/logout/" method="post"' in body
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert staff_client.get("/").status_code == 302
