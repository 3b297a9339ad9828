from django.contrib import admin

from orders.models import Order, OrderItem, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "is_active"]
    list_filter = ["is_active", "category"]
    search_fields = ["name"]
    list_editable = ["price", "is_active"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 1
    autocomplete_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "channel", "status", "customer_name", "scheduled_for"]
    list_filter = ["status", "channel", "created_at"]
    search_fields = ["number", "customer_name"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline]
    readonly_fields = ["number", "confirmed_at"]

    def save_related(self, request, form, formsets, change):
        # Items are saved after the order: the receipt is built after commit, so it sees them.
        super().save_related(request, form, formsets, change)
