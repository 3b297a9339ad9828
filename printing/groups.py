"""Channel-layer group names, defined in one place."""

STAFF_GROUP = "staff"


def printer_group(printer_id):
    return f"printer.{printer_id}"
