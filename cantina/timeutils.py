"""Day bounds in the shop's time zone (settings.TIME_ZONE): the one place "a day" is computed."""

from datetime import datetime, time, timedelta

from django.utils import timezone


def day_bounds(day):
    """The aware [start, end) of a calendar day in the current time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start, end


def today_bounds(now=None):
    """The aware [start, end) of the local day ``now`` (default: the current time) falls in."""
    return day_bounds(timezone.localtime(now).date())
