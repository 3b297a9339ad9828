"""Read-only queries for the staff pages."""

from django.db.models import Prefetch

from cantina.timeutils import day_bounds
from orders.models import Order, OrderItem, Product


def products_for_sale():
    """Active products, grouped as [(category, [product, …]), …] in menu order."""
    groups = {}
    for product in Product.objects.filter(is_active=True).order_by("category", "name"):
        groups.setdefault(product.category, []).append(product)
    return list(groups.items())


def scheduled_orders(day):
    """Scheduled orders picked up on ``day``, by pickup time, with their items."""
    start, end = day_bounds(day)
    return list(
        Order.objects.filter(channel=Order.Channel.SCHEDULED, scheduled_for__gte=start, scheduled_for__lt=end)
        .order_by("scheduled_for", "id")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("id")))
    )
