from datetime import timedelta

from django.utils import timezone, translation

from printing.display import time_ago


def test_a_moment_within_the_last_minute_is_just_now_not_zero_minutes_ago():
    now = timezone.now()
    with translation.override("pt-br"):
        assert time_ago(now - timedelta(seconds=59), now) == "agora mesmo"
        assert time_ago(now - timedelta(minutes=3), now) == "há 3\xa0minutos"
    with translation.override("en"):
        assert time_ago(now - timedelta(seconds=5), now) == "just now"
        assert time_ago(now - timedelta(hours=2), now) == "2\xa0hours ago"
