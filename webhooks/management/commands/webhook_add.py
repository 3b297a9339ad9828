from django.core.management.base import BaseCommand, CommandError

from webhooks import services


class Command(BaseCommand):
    help = "Subscribe a URL to webhook events and print its signing secret (alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument(
            "--events",
            default="",
            help="comma-separated event types, e.g. job.completed,job.failed or job.*; default: every event",
        )
        parser.add_argument("--description", default="")

    def handle(self, *args, url, events, description, **options):
        try:
            subscription = services.subscription_create(
                url=url.strip(), events=events.split(","), description=description
            )
        except services.WebhookError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Webhook {subscription.pk} added for {subscription.url} "
            f"(events: {', '.join(subscription.events) or 'all'}). Verify X-Cantina-Signature with this secret:"
        )
        self.stdout.write(subscription.secret)
