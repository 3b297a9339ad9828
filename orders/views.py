"""Staff pages for selling: the counter (Balcão) and scheduled orders (Agendados).

Print job states on these pages come from the printing app's JSON endpoint and the live
channel (/ws/staff/), in the browser: this app never imports ``printing``.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import roles
from orders import selectors, services
from orders.forms import CounterSaleForm, DayForm, ScheduledOrderForm
from orders.models import Order, Product
from orders.services import OrderError
from orders.staff import redirect_back, staff_required


@staff_required
@permission_required(roles.SELL_AT_COUNTER, raise_exception=True)
@require_http_methods(["GET", "POST"])
def counter(request):
    """Counter sale: pick products, confirm, and the receipt prints at once."""
    form = CounterSaleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_create(
                channel=Order.Channel.COUNTER,
                items=form.cleaned_data["items"],
                customer_name=form.cleaned_data["customer_name"],
                payment_method=form.cleaned_data["payment_method"],
                amount_received=(
                    form.cleaned_data["amount_received"]
                    if form.cleaned_data["payment_method"] == Order.PaymentMethod.CASH
                    else None
                ),
                confirm=True,
                created_by=request.user,
            )
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            # Says only what is true now; the card below follows the receipt's badge live.
            messages.success(request, _("Order %(number)s confirmed.") % {"number": order.number})
            return redirect(f"{reverse('orders:counter')}?order={order.pk}")

    last_order = None
    if request.method == "GET" and request.GET.get("order", "").isdigit():
        last_order = (
            Order.objects.filter(pk=int(request.GET["order"]), channel=Order.Channel.COUNTER)
            .prefetch_related("items")
            .first()
        )
    return render(
        request,
        "orders/counter.html",
        {
            "form": form,
            "categories": selectors.products_for_sale(),
            "sold_out": selectors.products_sold_out(),
            "may_mark_sold_out": roles.may_mark_sold_out(request.user),
            "cart_lines": _cart_lines(form) if form.is_bound else [],
            "last_order": last_order,
        },
    )


@staff_required
@permission_required(roles.VIEW_ORDER, raise_exception=True)
def scheduled(request):
    """Scheduled orders of one day, grouped by pickup time."""
    day = DayForm(request.GET).selected_day()
    groups = {}
    for order in selectors.scheduled_orders(day):
        groups.setdefault(timezone.localtime(order.scheduled_for).strftime("%H:%M"), []).append(order)
    counts = {status: 0 for status in Order.Status.values}
    for orders in groups.values():
        for order in orders:
            counts[order.status] += 1
    # The page script re-fetches only the list (?region=orders) when a receipt changes state.
    template = "orders/_scheduled_orders.html" if request.GET.get("region") == "orders" else "orders/scheduled.html"
    return render(
        request,
        template,
        {
            "day": day,
            "page_url": f"{reverse('orders:scheduled')}?day={day.isoformat()}",
            "day_form": DayForm(initial={"day": day}),
            "is_today": day == timezone.localdate(),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "groups": list(groups.items()),
            "counts": counts,
        },
    )


@staff_required
@permission_required(roles.ADD_ORDER, raise_exception=True)
@require_http_methods(["GET", "POST"])
def scheduled_new(request):
    """A phone order: created pending (or confirmed, which prints it)."""
    initial_day = DayForm(request.GET).selected_day()
    form = ScheduledOrderForm(
        request.POST if request.method == "POST" else None,
        initial={"pickup_day": max(initial_day, timezone.localdate())},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_create(
                channel=Order.Channel.SCHEDULED,
                items=data["items"],
                customer_name=data["customer_name"],
                payment_method=data["payment_method"],
                scheduled_for=data["scheduled_for"],
                notes=data["notes"],
                confirm=data["confirm_now"],
                created_by=request.user,
            )
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            if order.status == Order.Status.CONFIRMED:
                message = _("Scheduled order %(number)s created and confirmed.")
            else:
                message = _("Scheduled order %(number)s created. Confirm it to print.")
            messages.success(request, message % {"number": order.number})
            return redirect(_scheduled_url(order))
    return render(
        request,
        "orders/scheduled_form.html",
        {
            "form": form,
            "categories": selectors.products_for_sale(),
            "cart_lines": _cart_lines(form) if form.is_bound else [],
        },
    )


@staff_required
@permission_required(roles.CHANGE_ORDER, raise_exception=True)
@require_POST
def order_confirm(request, order_id):
    return _order_action(request, order_id, services.order_confirm, _("Order %(number)s confirmed."))


@staff_required
@permission_required(roles.CHANGE_ORDER, raise_exception=True)
@require_POST
def order_mark_ready(request, order_id):
    return _order_action(request, order_id, services.order_mark_ready, _("Order %(number)s is ready for pickup."))


@staff_required
@permission_required(roles.CHANGE_ORDER, raise_exception=True)
@require_POST
def order_mark_delivered(request, order_id):
    return _order_action(request, order_id, services.order_mark_delivered, _("Order %(number)s delivered."))


@staff_required
@permission_required(roles.CANCEL_ORDER, raise_exception=True)
@require_POST
def order_cancel(request, order_id):
    return _order_action(request, order_id, services.order_cancel, _("Order %(number)s cancelled."))


def _order_action(request, order_id, action, success_message):
    order = get_object_or_404(Order, pk=order_id)
    try:
        order = action(order_id=order.pk, user=request.user)
    except OrderError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success_message % {"number": order.number})
    return redirect_back(request, _scheduled_url(order))


def _scheduled_url(order):
    if order.channel != Order.Channel.SCHEDULED or order.scheduled_for is None:
        return reverse("orders:counter")
    day = timezone.localtime(order.scheduled_for).date()
    return f"{reverse('orders:scheduled')}?day={day.isoformat()}"


def _cart_lines(form):
    """The posted cart as plain data for the page's script, to show it again after an error."""
    lines = form.posted_lines()
    products = Product.objects.in_bulk([product_id for product_id, _quantity in lines])
    return [
        {
            "product": product_id,
            "quantity": quantity,
            "name": products[product_id].name,
            "price": str(products[product_id].price),
            "active": products[product_id].is_active,
        }
        for product_id, quantity in lines
        if product_id in products
    ]


@staff_required
@require_POST
def product_sold_out(request, product_id):
    """One tap on the counter: the product is sold out (or, with ``sold_out=0``, back on sale)."""
    if not roles.may_mark_sold_out(request.user):
        raise PermissionDenied
    product = get_object_or_404(Product, pk=product_id)
    sold_out = request.POST.get("sold_out", "1") != "0"
    services.product_set_sold_out(product_id=product.pk, sold_out=sold_out, user=request.user)
    if sold_out:
        messages.success(request, _("“%(name)s” is sold out: it is hidden from the counter.") % {"name": product.name})
    else:
        messages.success(request, _("“%(name)s” is on sale again.") % {"name": product.name})
    return redirect_back(request, reverse("orders:counter"))


@staff_required
@permission_required(roles.CHANGE_ORDER, raise_exception=True)
@require_http_methods(["GET", "POST"])
def scheduled_edit(request, order_id):
    """A pending scheduled order: its items, pickup time and notes can still change."""
    order = get_object_or_404(Order.objects.prefetch_related("items"), pk=order_id, channel=Order.Channel.SCHEDULED)
    if order.status != Order.Status.PENDING:
        messages.error(
            request, _("Order %(number)s is already confirmed: its items cannot change.") % {"number": order.number}
        )
        return redirect(_scheduled_url(order))
    pickup = timezone.localtime(order.scheduled_for)
    form = ScheduledOrderForm(
        request.POST if request.method == "POST" else None,
        initial={
            "customer_name": order.customer_name,
            "pickup_day": pickup.date(),
            "pickup_time": pickup.time().replace(second=0, microsecond=0),
            "notes": order.notes,
        },
    )
    form.fields["payment_method"].required = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_edit(
                order_id=order.pk,
                items=data["items"],
                scheduled_for=data["scheduled_for"],
                notes=data["notes"],
                user=request.user,
            )
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
            return redirect(_scheduled_url(order))
    cart_lines = (
        _cart_lines(form)
        if form.is_bound
        else [
            {
                "product": item.product_id,
                "quantity": item.quantity,
                "name": item.name,
                "price": str(item.unit_price),
                "active": True,
            }
            for item in order.items.all()
            if item.product_id
        ]
    )
    return render(
        request,
        "orders/scheduled_form.html",
        {
            "form": form,
            "order": order,
            "categories": selectors.products_for_sale(),
            "cart_lines": cart_lines,
        },
    )
