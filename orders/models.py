"""Products and orders: what is sold, and the orders whose receipts get printed."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How many of one product a single order line may hold (the service, the form and the model agree).
MIN_QUANTITY = 1
MAX_QUANTITY = 99


class Product(models.Model):
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=60, blank=True)
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    is_active = models.BooleanField(_("active"), default=True)
    sold_out = models.BooleanField(
        _("sold out"), default=False, help_text=_("Hidden from the counter and refused in new orders until turned off.")
    )

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        # Narrower than change_product: an attendant may mark an item sold out at the counter,
        # without being able to change prices or names (accounts.roles).
        permissions = [("mark_sold_out", _("Can mark products sold out"))]

    def __str__(self):
        return self.name


class DailyOrderCounter(models.Model):
    """Hands out order numbers that start again at 1 every day, as canteens call them out."""

    day = models.DateField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    @classmethod
    def next_number(cls, day):
        with transaction.atomic():
            counter, _created = cls.objects.get_or_create(day=day)
            cls.objects.filter(pk=counter.pk).update(last_number=F("last_number") + 1)
            counter.refresh_from_db(fields=["last_number"])
            return counter.last_number


# The output type of money expressions (Sum of quantity × price).
MONEY: "DecimalField[Decimal, Decimal]" = DecimalField(max_digits=12, decimal_places=2)


def lines_total(lines):
    """An order's total: the sum of its lines' ``unit_price`` × ``quantity`` (0.00 for none)."""
    return sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))


class OrderQuerySet(models.QuerySet):
    def with_total(self):
        """Annotate ``total_amount`` (one subquery), which ``Order.total`` then reads."""
        line_totals = (
            OrderItem.objects.filter(order=OuterRef("pk"))
            .values("order")
            .annotate(total=Sum(F("quantity") * F("unit_price"), output_field=MONEY))
            .values("total")
        )
        return self.annotate(total_amount=Coalesce(Subquery(line_totals), Decimal("0.00"), output_field=MONEY))


class Order(models.Model):
    class Channel(models.TextChoices):
        COUNTER = "counter", _("Counter")
        SCHEDULED = "scheduled", _("Scheduled")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CONFIRMED = "confirmed", _("Confirmed")
        READY = "ready", _("Ready")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    class PaymentMethod(models.TextChoices):
        CASH = "cash", _("Cash")
        CARD = "card", _("Card")
        PIX = "pix", _("Pix")
        OTHER = "other", _("Other")

    number = models.CharField(_("number"), max_length=20, blank=True, db_index=True, editable=False)
    customer_name = models.CharField(_("customer"), max_length=120, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.COUNTER)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    payment_method = models.CharField(_("payment method"), max_length=10, choices=PaymentMethod.choices, blank=True)
    scheduled_for = models.DateTimeField(_("pickup time"), null=True, blank=True, db_index=True)
    notes = models.TextField(_("notes"), blank=True)
    # Cash sales: what the customer handed over (the change is derived: received − total).
    amount_received = models.DecimalField(_("amount received"), max_digits=10, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, db_index=True)

    objects = OrderQuerySet.as_manager()

    # Which transitions each state allows (orders.services enforces them; pages show them).
    TRANSITIONS = {
        Status.PENDING: ("confirm", "cancel"),
        Status.CONFIRMED: ("ready", "delivered", "reprint", "cancel"),
        Status.READY: ("delivered", "reprint", "cancel"),
        Status.DELIVERED: (),
        Status.CANCELLED: (),
    }

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [
            ("sell_at_counter", _("Can sell at the counter")),
            ("cancel_order", _("Can cancel orders")),
        ]

    def __str__(self):
        return f"#{self.number}" if self.number else _("new order")

    def save(self, *args, **kwargs):
        if not self.number:
            day = timezone.localdate(self.created_at)
            self.number = f"{DailyOrderCounter.next_number(day):03d}"
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "number"}
        confirming = self.status == self.Status.CONFIRMED and self.confirmed_at is None
        if confirming:
            # The database's clock, like PrintJob.created_at: the repair of receipts a cut-short
            # confirmation never created compares confirmed_at with it, across processes whose
            # wall clocks may be wrong (tests/test_clock_jumps.py).
            self.confirmed_at = Now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "confirmed_at"}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            if confirming:
                self.confirmed_at = None  # not confirmed: a retried save sets it again
            raise
        if confirming:  # the value the database chose, not the expression
            self.confirmed_at = (
                type(self).objects.filter(pk=self.pk).order_by().values_list("confirmed_at", flat=True).first()
            )

    @property
    def total(self):
        """The order's total: the ``with_total()`` annotation when present, else its items' sum."""
        annotated = getattr(self, "total_amount", None)
        if annotated is not None:
            return annotated
        return lines_total(self.items.all())

    @property
    def change_due(self):
        """Change to hand back for a cash sale (None when no amount was recorded)."""
        if self.amount_received is None:
            return None
        return self.amount_received - self.total

    def allowed_actions(self):
        """The actions a person may take on this order now: confirm, ready, delivered, reprint, cancel."""
        return self.TRANSITIONS.get(self.status, ())


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order_items",
        verbose_name=_("product"),
    )
    # Snapshots: a receipt shows what was sold, even after the product is renamed or repriced.
    name = models.CharField(_("name"), max_length=120)
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(MIN_QUANTITY), MaxValueValidator(MAX_QUANTITY)]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")

    def __str__(self):
        return f"{self.quantity} × {self.name}"

    def save(self, *args, **kwargs):
        if self.product_id and not self.name:
            self.name = self.product.name
        if self.product_id and self.unit_price is None:
            self.unit_price = self.product.price
        super().save(*args, **kwargs)

    @property
    def line_total(self):
        return self.unit_price * self.quantity
