"""The two staff roles, as Django groups and permissions: one definition for every check.

The staff pages, their JSON endpoints, the live socket, the admin and the print dashboard all ask
``user.has_perm(…)`` for the permissions below, so an account may do the same everywhere.
A superuser passes every check.

* **Atendente** (attendant): sells at the counter, takes and moves along scheduled orders, sees
  printers and print jobs, and reprints or retries jobs of *its shift*: jobs created today (the
  shop's local day, ``TIME_ZONE``, from 00:00), and marks products sold out (or back on sale) from
  the counter at a rush: ``mark_sold_out`` only, never ``change_product`` (prices, names). Cancelling orders or jobs, printing test pages,
  the dashboard and older jobs are the manager's.
* **Gerente** (manager): every permission of the apps in ``MANAGER_APPS`` (orders, printing, API
  keys, webhooks, login lockouts) — staff pages, admin and dashboard.

The groups are created by a migration and brought up to date after every ``migrate``: missing
permissions are added (an app installed later, e.g. the API, gets its permissions granted to
Gerente), none is ever removed. For a different role, make another group in the admin.
"""

from django.utils import timezone

ATTENDANT = "Atendente"
MANAGER = "Gerente"

SELL_AT_COUNTER = "orders.sell_at_counter"
VIEW_ORDER = "orders.view_order"
ADD_ORDER = "orders.add_order"
CHANGE_ORDER = "orders.change_order"
CANCEL_ORDER = "orders.cancel_order"
VIEW_PRINTER = "printing.view_printer"
CHANGE_PRINTER = "printing.change_printer"
VIEW_PRINTJOB = "printing.view_printjob"
CHANGE_PRINTJOB = "printing.change_printjob"
REPRINT_TODAY = "printing.reprint_printjob"
REPRINT_ANY_DAY = "printing.reprint_any_printjob"
VIEW_DASHBOARD = "printing.view_dashboard"
MARK_SOLD_OUT = "orders.mark_sold_out"

ATTENDANT_PERMISSIONS = [
    SELL_AT_COUNTER,
    VIEW_ORDER,
    ADD_ORDER,
    CHANGE_ORDER,
    "orders.view_product",
    MARK_SOLD_OUT,
    VIEW_PRINTER,
    VIEW_PRINTJOB,
    REPRINT_TODAY,
]
MANAGER_APPS = ["orders", "printing", "api", "webhooks", "axes"]

ROLES = {
    ATTENDANT: {"permissions": ATTENDANT_PERMISSIONS, "apps": []},
    MANAGER: {"permissions": [], "apps": MANAGER_APPS},
}


def may_reprint(user, created_at):
    """May ``user`` reprint or retry a job created at ``created_at``? (the own-shift rule)"""
    if user.has_perm(REPRINT_ANY_DAY):
        return True
    return user.has_perm(REPRINT_TODAY) and timezone.localtime(created_at).date() == timezone.localdate()


def may_reprint_something(user):
    return user.has_perm(REPRINT_ANY_DAY) or user.has_perm(REPRINT_TODAY)


def roles_sync(apps):
    """Create the groups and add the permissions they lack (``apps``: a migration's or the real)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, role in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = set()
        for dotted in role["permissions"]:
            app_label, codename = dotted.split(".", 1)
            wanted.update(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename).values_list(
                    "pk", flat=True
                )
            )
        wanted.update(Permission.objects.filter(content_type__app_label__in=role["apps"]).values_list("pk", flat=True))
        group.permissions.add(*wanted)


def permissions_create_all(apps):
    """Permissions are normally created after ``migrate``; the roles need them during it."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def roles_sync_after_migrate(sender, app_config=None, using="default", apps=None, **kwargs):
    # post_migrate is sent once per app with models (also after a test flush); run once, after
    # the last one: auth has made every permission by then, including those of apps added later.
    from django.apps import apps as installed_apps

    with_models = [config for config in installed_apps.get_app_configs() if config.models_module is not None]
    if app_config is None or app_config.label != with_models[-1].label:
        return
    roles_sync(installed_apps)


def may_mark_sold_out(user):
    """The counter's sold-out toggle: the narrow permission, or full product editing."""
    return user.has_perm(MARK_SOLD_OUT) or user.has_perm("orders.change_product")
