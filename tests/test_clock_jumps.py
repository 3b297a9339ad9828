"""A server whose wall clock jumps (NTP stepping it, a VM resumed, a dead CMOS battery) neither
expires fresh jobs nor keeps dead printers online, nor skips repairing a cut-short confirmation.

time-machine moves this process's wall clock (``time.time``, ``datetime.now``) and leaves
``time.monotonic`` alone, as a real clock step does. The database's clock does not move: ages
compared across processes are measured on it, and durations inside one process on the
monotonic clock.
"""

import asyncio
import itertools
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from orders.models import Order
from printing import services
from printing.consumers import RateLimiter
from printing.models import Printer, PrintJob

pytestmark = pytest.mark.django_db

JUMPS = [timedelta(hours=25), timedelta(days=400), -timedelta(hours=25), -timedelta(days=400)]
FORWARD = [jump for jump in JUMPS if jump > timedelta(0)]
BACKWARD = [jump for jump in JUMPS if jump < timedelta(0)]


def jump_id(jump):
    hours = jump.total_seconds() / 3600
    return f"{hours:+.0f}h"


def jumped(delta):
    """This process's wall clock, moved by ``delta`` and still ticking."""
    return time_machine.travel(timezone.now() + delta, tick=True)


@pytest.fixture
def printer(make_printer):
    return make_printer("Balcão")


@pytest.fixture
def queued_job(printer):
    return services.job_create_test_page(printer=printer)


def status(job):
    return PrintJob.objects.values_list("status", "error_code").get(pk=job.pk)


# --- expiry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("jump", FORWARD, ids=jump_id)
def test_a_clock_jumping_forward_does_not_expire_a_fresh_job(queued_job, jump):
    with jumped(jump):
        assert services.jobs_expire() == []
    assert status(queued_job) == ("pending", "")


@pytest.mark.parametrize("jump", BACKWARD, ids=jump_id)
def test_a_clock_jumping_back_still_expires_a_job_that_waited_too_long(queued_job, jump):
    PrintJob.objects.filter(pk=queued_job.pk).update(created_at=timezone.now() - timedelta(hours=25))
    with jumped(jump):
        assert services.jobs_expire() == [queued_job.pk]
    assert status(queued_job) == ("failed", "expired")


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_a_job_created_while_the_clock_was_wrong_is_as_old_as_it_really_is(printer, jump):
    with jumped(jump):
        job = services.job_create_test_page(printer=printer)
    assert services.jobs_expire() == []
    assert status(job) == ("pending", "")


# --- stale printers --------------------------------------------------------------------------


def connected_printers():
    return set(Printer.objects.filter(connected=True).values_list("name", flat=True))


@pytest.mark.parametrize("jump", BACKWARD, ids=jump_id)
def test_a_clock_jumping_back_does_not_keep_a_dead_printer_online(printer, jump):
    Printer.objects.filter(pk=printer.pk).update(
        connected=True, connection_channel="specific.dead!x", last_seen_at=timezone.now() - timedelta(minutes=2)
    )
    with jumped(jump):
        assert services.printers_mark_stale() == [printer.pk]
    assert connected_printers() == set()


@pytest.mark.parametrize("jump", FORWARD, ids=jump_id)
def test_a_clock_jumping_forward_does_not_take_a_live_printer_offline(printer, jump):
    services.printers_touch([printer.pk])
    with jumped(jump):
        assert services.printers_mark_stale() == []
    assert connected_printers() == {"Balcão"}


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_a_live_printer_touched_by_a_process_whose_clock_is_wrong_stays_online(printer, jump):
    with jumped(jump):
        services.printers_touch([printer.pk])
        services.printer_report(printer_id=printer.pk, status="ready")
    assert services.printers_mark_stale() == []
    assert connected_printers() == {"Balcão"}


# --- repair of cut-short confirmations ----------------------------------------------------------


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_a_clock_jump_does_not_stop_the_repair_of_a_cut_short_confirmation(make_printer, make_order, jump):
    make_printer("Cozinha", auto_print=["counter"])
    order = make_order()  # the test's transaction never commits: no receipt was created
    Order.objects.filter(pk=order.pk).update(confirmed_at=timezone.now() - timedelta(seconds=60))
    with jumped(jump):
        created = services.jobs_create_missing()
    assert len(created) == 1


# --- durations inside one process: monotonic ----------------------------------------------------


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_the_agent_flood_limit_is_not_refilled_or_emptied_by_a_clock_jump(jump):
    limiter = RateLimiter(rate=1)
    for _ in range(limiter.capacity):
        assert limiter.allow()
    with jumped(jump):
        assert not limiter.allow(), "a wall-clock jump refilled the bucket"


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_the_agents_reconnect_backoff_grows_whatever_the_wall_clock_does(jump):
    from agent.client import STABLE_CONNECTION, Backoff

    backoff = Backoff(base=1.0, cap=30.0)
    with jumped(jump):
        delays = [backoff.next() for _ in range(5)]
    assert [delay <= 2**n for n, delay in enumerate(delays)] == [True] * 5
    assert delays[-1] >= 8, "the backoff kept growing"
    assert STABLE_CONNECTION > 0


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_the_channel_layer_retry_waits_on_the_monotonic_clock(jump):
    """``resilient`` receive's backoff (0.5 s, doubling) does not end early or late on a jump."""
    from printing.consumers import resilient

    attempts = []

    async def failing_then_ok():
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) < 3:
            raise ConnectionError("redis restarting")
        return {"type": "job.wakeup"}

    async def run():
        with jumped(jump):
            return await resilient(failing_then_ok)()

    assert asyncio.run(run()) == {"type": "job.wakeup"}
    waits = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert waits[0] >= 0.5 and waits[1] >= 1.0


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_periodic_maintenance_runs_on_schedule_whatever_the_wall_clock_does(jump):
    from printing.maintenance import Task, run_pass

    runs = []
    task = Task("count", lambda: runs.append(1), every_seconds=60)
    run_pass(tasks=[task])
    with jumped(jump):
        run_pass(tasks=[task])  # due only 60 s (monotonic) after the last run
    assert runs == [1]


# --- orders ------------------------------------------------------------------------------------


@pytest.mark.parametrize("jump", JUMPS, ids=jump_id)
def test_an_order_confirmed_while_the_clock_was_wrong_is_confirmed_at_the_database_time(make_order, jump):
    """confirmed_at is compared with the database's clock (the repair of missing receipts):
    it comes from that clock, like PrintJob.created_at, not from a server's wall clock."""
    order = make_order(status="pending")
    real_now = timezone.now()
    with jumped(jump):
        order.status = Order.Status.CONFIRMED
        order.save()
        assert abs(order.confirmed_at - real_now) < timedelta(minutes=5)  # a datetime, not an expression
    stored = Order.objects.values_list("confirmed_at", flat=True).get(pk=order.pk)
    assert stored == order.confirmed_at
    assert abs(stored - real_now) < timedelta(minutes=5)
