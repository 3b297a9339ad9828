"""Admin for products and orders.

Saving an order with status confirmed prints it like anywhere else: the post_save receiver
schedules the print jobs with transaction.on_commit, and the admin saves the order and its
inline items in one transaction, so the receipt is built after the items exist. (The print jobs
inline and the print actions are added by printing.admin: orders never imports printing.)
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import roles
from orders import services
from orders.models import Order, OrderItem, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "is_active", "sold_out"]
    list_filter = ["is_active", "sold_out", "category"]
    search_fields = ["name", "category"]
    list_editable = ["price", "is_active", "sold_out"]


class OrderItemForm(forms.ModelForm):
    """Name and unit price default to the product's, so picking a product is enough."""

    class Meta:
        model = OrderItem
        fields = ["product", "name", "quantity", "unit_price"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["unit_price"].required = False
        self.fields["name"].help_text = gettext_lazy("Empty: the product's name.")
        self.fields["unit_price"].help_text = gettext_lazy("Empty: the product's price.")

    def clean(self):
        cleaned = super().clean()
        product = cleaned.get("product")
        if not cleaned.get("name"):
            if product is None:
                self.add_error("name", _("Choose a product or type the item's name."))
            else:
                cleaned["name"] = product.name
        if cleaned.get("unit_price") is None:
            if product is None:
                self.add_error("unit_price", _("Choose a product or type the unit price."))
            else:
                cleaned["unit_price"] = product.price
        return cleaned


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    form = OrderItemForm
    extra = 1
    autocomplete_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "channel", "status", "customer_name", "scheduled_for"]
    list_filter = ["status", "channel", "created_at"]
    search_fields = ["number", "customer_name"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline]
    fields = [
        "number",
        "customer_name",
        "channel",
        "status",
        "payment_method",
        "scheduled_for",
        "notes",
        "created_at",
        "confirmed_at",
    ]
    readonly_fields = ["number", "created_at", "confirmed_at"]
    actions = ["confirm_orders", "cancel_orders"]

    @admin.action(description=gettext_lazy("Confirm selected orders (prints their receipts)"), permissions=["change"])
    def confirm_orders(self, request, queryset):
        self._transition(request, queryset, services.order_confirm, _("Order %(number)s confirmed."))

    def has_cancel_permission(self, request, obj=None):
        return request.user.has_perm(roles.CANCEL_ORDER)

    @admin.action(description=gettext_lazy("Cancel selected orders"), permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        self._transition(request, queryset, services.order_cancel, _("Order %(number)s cancelled."))

    def _transition(self, request, queryset, service, success):
        for order in queryset.order_by("pk"):
            try:
                service(order_id=order.pk, user=request.user)
            except services.OrderError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                self.message_user(request, success % {"number": order.number}, messages.SUCCESS)
