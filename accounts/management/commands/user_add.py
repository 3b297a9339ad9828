import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.roles import ATTENDANT, MANAGER

ROLE_GROUPS = {"atendente": ATTENDANT, "gerente": MANAGER}


class Command(BaseCommand):
    help = (
        "Add a staff account with a role (atendente or gerente) and print its generated password "
        "(alone on the last line). The password is never taken on the command line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, type=str.lower, choices=sorted(ROLE_GROUPS))
        parser.add_argument("--name", default="", help="the person's first name, as the admin shows it")

    def handle(self, *args, username, role, name, **options):
        username = username.strip()
        User = get_user_model()
        if not username:
            raise CommandError("The username must not be empty.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists; change its groups or password in the admin.")
        group = Group.objects.filter(name=ROLE_GROUPS[role]).first()
        if group is None:
            raise CommandError(f"The group {ROLE_GROUPS[role]!r} does not exist: run 'python manage.py migrate' first.")
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user = User.objects.create_user(username, password=password, first_name=name, is_staff=True)
            user.groups.add(group)
        self.stdout.write(
            f"User {username!r} added as {group.name} (staff). Its password (shown only once; "
            "it can be changed in the admin or with 'manage.py changepassword'):"
        )
        self.stdout.write(password)
