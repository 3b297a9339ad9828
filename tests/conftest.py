"""Shared fixtures: named users, products, printers, and an isolated in-memory channel layer."""

import os
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

# Test-process settings (servers the tests start as subprocesses keep the real ones):
# a fast password hasher, since hashing was most of tests/staff's time (as healthchecks does), and
# no maintenance thread in this process, whose database is the tests' (printing.maintenance is
# tested by calling it).
django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
django_settings.CANTINA_MAINTENANCE_IN_PROCESS = False


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    # Each test gets a fresh in-memory layer, whatever REDIS_URL the environment has.
    from channels.layers import channel_layers

    from printing import notify

    notify._skip_until = 0.0  # a test whose layer failed must not silence the next test's wake-ups
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "cantina.channel_layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _default_language():
    # Django's LocaleMiddleware leaves a request's language active in the thread: without this,
    # a test after an English request would render receipts in English.
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def staff_user(db):
    """Staff, with no permission at all (tests that need a role use attendant_user or manager_user)."""
    return get_user_model().objects.create_user("alice", password="alice-pass-123", is_staff=True)


def user_with_role(username, role, **fields):
    """A staff account in group ``role`` (accounts.roles: "Atendente" or "Gerente")."""
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username, password=f"{username}-pass-123", is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def attendant_user(db):
    return user_with_role("ana", "Atendente")


@pytest.fixture
def manager_user(db):
    return user_with_role("gil", "Gerente")


@pytest.fixture
def customer_user(db):
    return get_user_model().objects.create_user("bob", password="bob-pass-123", is_staff=False)


@pytest.fixture
def products(db):
    from orders.models import Product

    return [
        Product.objects.create(name="Pão de queijo", category="Salgados", price=Decimal("4.50")),
        Product.objects.create(name="Suco de laranja", category="Bebidas", price=Decimal("6.00")),
        Product.objects.create(name="Coxinha", category="Salgados", price=Decimal("7.25")),
    ]


@pytest.fixture
def make_printer(db):
    from printing import services
    from printing.models import Printer

    def make(name="Balcão", **fields):
        printer = Printer.objects.create(name=name, **fields)
        printer.token = services.printer_issue_token(printer=printer)
        return printer

    return make


@pytest.fixture
def make_order(db):
    """Create an order with items, saved pending first, then with the given status."""
    from orders.models import Order, OrderItem

    def make(status="confirmed", channel="counter", customer_name="Ana", items=None, **fields):
        order = Order.objects.create(customer_name=customer_name, channel=channel, status="pending", **fields)
        for name, quantity, price in items or [("Pão de queijo", 2, "4.50"), ("Suco de laranja", 1, "6.00")]:
            OrderItem.objects.create(order=order, name=name, quantity=quantity, unit_price=Decimal(price))
        if status != "pending":
            order.status = status
            order.save()
        return order

    return make


# CI must not pass silently: required-service skips fail with CI=true; skips listed by name.
from tests.ci_skips import pytest_runtest_makereport, pytest_terminal_summary  # noqa: E402,F401

# Code that never opens the database: the agent (no Django), receipt rendering, the translation
# and fault checkers, the listener fuzzer. The PostgreSQL pass of ./dev test leaves out their tests
# that use no database fixture (the SQLite pass ran them; they cannot differ on PostgreSQL).
DATABASE_FREE = (
    "tests/agent/",
    "tests/receipts/",
    "tests/test_i18n_check.py",
    "tests/faults/test_checker.py",
    "tests/security/test_fuzz_local_listener.py",
)
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def _uses_database(item):
    return bool(item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    # Tests that only mean something on PostgreSQL (real concurrent transactions) are deselected,
    # not skipped, on SQLite: ./dev test runs them in its PostgreSQL pass, so nothing is lost.
    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        same_anywhere = [item for item in items if item.nodeid.startswith(DATABASE_FREE) and not _uses_database(item)]
        if same_anywhere:
            left_out = set(map(id, same_anywhere))
            items[:] = [item for item in items if id(item) not in left_out]
            config.hook.pytest_deselected(items=same_anywhere)
        return
    postgresql_only = [item for item in items if item.get_closest_marker("postgresql_only")]
    if postgresql_only:
        items[:] = [item for item in items if not item.get_closest_marker("postgresql_only")]
        config.hook.pytest_deselected(items=postgresql_only)


# CI runs the fuzzers on a fixed sequence of examples, so a red run can be replayed exactly and a
# green one is not luck; a developer's run keeps exploring new examples.
if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
    from hypothesis import settings as hypothesis_settings

    hypothesis_settings.register_profile("ci", derandomize=True)
    hypothesis_settings.load_profile("ci")
