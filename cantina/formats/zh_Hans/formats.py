"""Simplified Chinese: money grouped by thousands with commas (R$ 1,234.50), as prices are written
in China (CLDR zh: #,##0.00). Django's default for zh-hans is no visible grouping (1234.50), which
makes larger totals harder to read at a glance. Dates and times stay Django's."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
