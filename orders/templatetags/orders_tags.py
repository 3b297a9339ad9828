"""Template helpers for the staff pages: money as the canteen writes it."""

from decimal import Decimal

from django import template
from django.utils.formats import get_format, number_format

register = template.Library()


@register.filter
def money(value):
    """Reais in the active language's number format: "R$ 1.234,50" in pt-br, "R$ 1,234.50" in en."""
    if value in (None, ""):
        return ""
    return f"R$ {number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)}"


@register.simple_tag
def money_format():
    """The active language's separators, for the page script that adds up the cart."""
    return {"decimal": get_format("DECIMAL_SEPARATOR"), "thousands": get_format("THOUSAND_SEPARATOR")}
