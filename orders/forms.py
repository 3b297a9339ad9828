"""Forms of the staff pages: the cart (counter sale and phone orders) and the day filter.

Forms check the shape of what was posted; the rules of selling (active products, quantities,
allowed state changes) live in ``orders.services``, which every caller goes through.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import MAX_QUANTITY, MIN_QUANTITY, Order

MIN_YEAR, MAX_YEAR = 2000, 9998
DATABASE_INT_MAX = 2**63 - 1


class IntegerListField(forms.Field):
    """Repeated form values (``product=3&product=5``) as a list of integers."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Enter whole numbers only.")}

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, (str, int)):
            value = [value]
        try:
            numbers = [int(str(item).strip()) for item in value]
        except (TypeError, ValueError):
            numbers = None
        # Beyond a database integer, a lookup would fail in the database driver (a 500).
        if numbers is None or not all(abs(number) <= DATABASE_INT_MAX for number in numbers):
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"min": MIN_QUANTITY, "max": MAX_QUANTITY}
            )
        return numbers


def check_day_in_range(day):
    """Days near the ends of the calendar overflow the day's bounds and the previous/next links."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError(
            _("Choose a day between the years %(min)s and %(max)s."),
            code="out_of_range",
            params={"min": MIN_YEAR, "max": MAX_YEAR},
        )
    return day


class CartForm(forms.Form):
    """Cart lines posted as parallel ``product`` / ``quantity`` values, one pair per line."""

    product = IntegerListField(required=False)
    quantity = IntegerListField(
        required=False,
        error_messages={"invalid": _("Quantities must be whole numbers from %(min)s to %(max)s.")},
    )
    customer_name = forms.CharField(label=_("Customer name"), max_length=120, required=False)
    payment_method = forms.ChoiceField(
        label=_("Payment"),
        choices=Order.PaymentMethod.choices,
        widget=forms.RadioSelect,
        initial=Order.PaymentMethod.CASH,
    )

    def clean(self):
        cleaned = super().clean()
        products, quantities = cleaned.get("product"), cleaned.get("quantity")
        if products is None or quantities is None:
            return cleaned
        if len(products) != len(quantities):
            raise ValidationError(_("Each cart line needs a product and a quantity."), code="unpaired")
        cleaned["items"] = list(zip(products, quantities, strict=True))
        return cleaned

    def posted_lines(self):
        """The lines as posted, as far as they can be read: to show the cart again after an error."""
        products = self.data.getlist("product") if hasattr(self.data, "getlist") else []
        quantities = self.data.getlist("quantity") if hasattr(self.data, "getlist") else []
        lines = []
        # A tampered form may post more of one than the other: pair what pairs.
        for product, quantity in zip(products, quantities, strict=False):
            try:
                line = (int(product), int(quantity))
            except ValueError:
                continue
            if all(abs(number) <= DATABASE_INT_MAX for number in line):
                lines.append(line)
        return lines


class CounterSaleForm(CartForm):
    # Text, checked by orders.services (Decimal, ≥ total): "20,00" and "20.00" both work.
    amount_received = forms.CharField(label=_("Amount received"), max_length=20, required=False)


class ScheduledOrderForm(CartForm):
    """A phone order: who, when it is picked up, what, and whether it prints right away."""

    customer_name = forms.CharField(label=_("Customer name"), max_length=120)
    pickup_day = forms.DateField(
        label=_("Pickup day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    pickup_time = forms.TimeField(
        label=_("Pickup time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    payment_method = forms.ChoiceField(
        label=_("Payment"),
        choices=[("", _("On pickup")), *Order.PaymentMethod.choices],
        required=False,
        widget=forms.RadioSelect,
        initial="",
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    confirm_now = forms.BooleanField(label=_("Confirm and print now"), required=False)

    def clean_pickup_day(self):
        day = check_day_in_range(self.cleaned_data["pickup_day"])
        if day < timezone.localdate():
            raise ValidationError(_("The pickup day is in the past."), code="past")
        return day

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("pickup_day"), cleaned.get("pickup_time")
        if day is not None and time is not None:
            cleaned["scheduled_for"] = timezone.make_aware(datetime.combine(day, time))
        return cleaned


class DayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_day(self):
        day = self.cleaned_data["day"]
        return check_day_in_range(day) if day else day

    def selected_day(self):
        if self.is_valid() and self.cleaned_data["day"]:
            return self.cleaned_data["day"]
        return timezone.localdate()
