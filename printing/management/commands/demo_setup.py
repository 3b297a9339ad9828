"""``manage.py demo_setup`` (development only): the admin/admin superuser, demo products and printer."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from orders.models import Product
from printing.models import Printer

DEMO_PRODUCTS = [
    ("Salgados", "Pão de queijo", "4.50"),
    ("Salgados", "Coxinha", "7.25"),
    ("Salgados", "Esfiha de carne", "6.50"),
    ("Lanches", "Misto quente", "9.00"),
    ("Lanches", "Sanduíche natural", "12.00"),
    ("Bebidas", "Suco de laranja", "6.00"),
    ("Bebidas", "Água mineral", "3.00"),
    ("Bebidas", "Achocolatado", "5.50"),
    ("Doces", "Brigadeiro", "3.50"),
    ("Doces", "Bolo de cenoura", "5.00"),
]


class Command(BaseCommand):
    help = "Development only: an admin/admin superuser, demo products and the demo printer “Balcão”."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_setup only runs with DJANGO_DEBUG=true: it creates an admin/admin account.")
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created superuser admin (password: admin).")
        if not Product.objects.exists():
            Product.objects.bulk_create(
                Product(category=category, name=name, price=Decimal(price)) for category, name, price in DEMO_PRODUCTS
            )
            self.stdout.write(f"Created {len(DEMO_PRODUCTS)} demo products.")
        printer, created = Printer.objects.get_or_create(name="Balcão", defaults={"location": "Caixa"})
        if created:
            self.stdout.write("Created the demo printer “Balcão”.")
