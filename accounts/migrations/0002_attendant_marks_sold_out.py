"""Atendente gets orders.mark_sold_out (the counter's sold-out toggle), not change_product."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import permissions_create_all, roles_sync

    permissions_create_all(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles"),
        ("orders", "0006_product_mark_sold_out_permission"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
