"""Template helpers for the staff pages: money as the canteen writes it."""

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.formats import get_format, number_format

register = template.Library()


@register.filter
def money(value):
    """The shop's currency in the active language's number format: "R$ 1.234,50" in pt-br,
    "R$ 1,234.50" in en (CANTINA_CURRENCY_SYMBOL; a one-character symbol takes no space: "$1,234.50")."""
    if value in (None, ""):
        return ""
    symbol = settings.CANTINA_CURRENCY_SYMBOL
    prefix = f"{symbol} " if len(symbol) > 1 else symbol
    return f"{prefix}{number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)}"


@register.simple_tag
def money_format():
    """The shop's currency prefix and the active language's separators, for the page script that
    adds up the cart (it must write money exactly as the ``money`` filter does)."""
    symbol = settings.CANTINA_CURRENCY_SYMBOL
    return {
        "prefix": f"{symbol} " if len(symbol) > 1 else symbol,
        "decimal": get_format("DECIMAL_SEPARATOR"),
        "thousands": get_format("THOUSAND_SEPARATOR"),
    }
