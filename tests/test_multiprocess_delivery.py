"""Several server processes on the production stack: PostgreSQL and Redis.

Two daphne processes share one database and one Redis channel layer. An order confirmed by a
staff member on process B prints on an agent connected to process A, through the wake-up that
crosses Redis; after Redis restarts (every group membership gone) the agent still gets its jobs
within the 10 s of delivery rule 3. Claims and status reports from concurrent processes move each
job exactly once, on PostgreSQL and on SQLite.
"""

import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools.polling import wait_for
from tools.processes import (
    AgentProcess,
    DaphneServer,
    Database,
    FakePrinterProcess,
    Manage,
    PostgresCluster,
    RedisServer,
    StaffBrowser,
    base_env,
    pg_ctlcluster_available,
)

pytestmark = pytest.mark.timeout(180)

requires_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture
def postgres_url():
    if not pg_ctlcluster_available():
        pytest.skip("pg_ctlcluster is not installed (PostgreSQL 15)")
    cluster = PostgresCluster().start()
    name = f"cantina_multi_{uuid.uuid4().hex[:8]}"
    url = cluster.create_database(name)
    yield url
    cluster.drop_database(name)


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def children():
    """Processes to kill at the end of the test, whatever happens."""
    started = []
    yield started
    for child in reversed(started):
        child.kill()


def start_two_servers(tmp_path, children, postgres_url, redis_url, sweep_interval):
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "CANTINA_SWEEP_INTERVAL": sweep_interval}
    server_a = DaphneServer(tmp_path / "a", **env)
    server_b = DaphneServer(tmp_path / "b", migrate=False, **env)
    children += [server_a, server_b]
    server_a.start()
    server_b.start()
    return server_a, server_b


def start_agent_on(server, tmp_path, children, name="Balcão"):
    fake = FakePrinterProcess(tmp_path / "paper").start()
    children.append(fake)
    token = server.manage.add_printer(name)
    agent = AgentProcess(
        server.agent_url, token, fake.url, tmp_path / "journal.sqlite3", tmp_path / "agent.log"
    ).start()
    children.append(agent)
    wait_for(lambda: "server welcomes" in agent.log(), 20, message="the agent to connect")
    return fake, agent


def confirm_through(server, order_id):
    """A staff member confirms the order on this server's staff pages; returns when (wall clock)."""
    browser = StaffBrowser(server.http_url).login(*server.manage.create_staff(f"staff{uuid.uuid4().hex[:6]}"))
    confirmed_at = time.time()
    status, _, _ = browser.post(f"/orders/{order_id}/confirm/")
    assert status == 200
    return confirmed_at


def printer_groups_in(redis_url):
    """The printer groups that exist in this Redis (channels_redis keys ``asgi:group:<name>``)."""
    import redis as redis_client

    connection = redis_client.Redis.from_url(redis_url)
    try:
        return connection.keys("asgi:group:printer.*")
    except redis_client.RedisError:
        return []
    finally:
        connection.close()


def printed_after(fake, confirmed_at, timeout):
    path = wait_for(lambda: sorted(fake.out_dir.glob("*.bin")), timeout, message="the receipt on paper")[0]
    return path.stat().st_mtime - confirmed_at


@pytest.mark.e2e
@pytest.mark.redis
@requires_redis
def test_order_confirmed_through_process_b_prints_on_the_agent_of_process_a(tmp_path, children, postgres_url, redis):
    # A sweep every 60 s: only the wake-up through Redis can deliver within the deadline.
    server_a, server_b = start_two_servers(tmp_path, children, postgres_url, redis.url, sweep_interval=60)
    fake, agent = start_agent_on(server_a, tmp_path, children)
    [order_id] = server_b.manage.create_pending_orders(1)

    confirmed_at = confirm_through(server_b, order_id)

    latency = printed_after(fake, confirmed_at, timeout=30)
    print(f"\nconfirmed on process B → on paper at the agent of process A: {latency * 1000:.0f} ms")
    assert latency < 30  # far below the 60 s sweep: only the wake-up can have delivered it
    database = Database(postgres_url)
    wait_for(lambda: [job[3] for job in database.jobs()] == ["completed"], 10, interval=0.2, message="completed")
    [(job_id, job_order, printer, *_)] = database.jobs()
    assert (job_order, printer) == (order_id, "Balcão")
    assert f"Ref. {job_id}" in fake.received()[0]


@pytest.mark.e2e
@pytest.mark.redis
@requires_redis
def test_after_redis_restarts_a_connected_agent_still_gets_its_jobs_within_10_seconds(
    tmp_path, children, postgres_url, redis
):
    # The production sweep interval (3 s): the wake-up is lost, the sweep finds the job.
    server_a, server_b = start_two_servers(tmp_path, children, postgres_url, redis.url, sweep_interval=3)
    fake, agent = start_agent_on(server_a, tmp_path, children)
    [order_id] = server_b.manage.create_pending_orders(1)

    redis.stop()  # kill -9: group memberships and queued messages are gone
    time.sleep(1)
    redis.start()
    time.sleep(1)
    confirmed_at = confirm_through(server_b, order_id)

    latency = printed_after(fake, confirmed_at, timeout=10)
    print(f"\nafter a Redis restart, confirmed on B → on paper at the agent of A: {latency * 1000:.0f} ms")
    assert latency < 10
    assert agent.alive


CLAIM_SCRIPT = """
import time
from printing import services
from printing.models import Printer
printer_id = Printer.objects.get(name="Balcão").pk
while time.time() < {start_at}:
    time.sleep(0.005)
claimed = []
while True:
    batch = [payload["job_id"] for payload in services.jobs_claim(printer_id=printer_id, limit=3)]
    if not batch:
        break
    claimed += batch
print(json.dumps(claimed))
"""

REPORT_SCRIPT = """
import time
from printing import services
from printing.models import Printer, PrintJob
printer_id = Printer.objects.get(name="Balcão").pk
job_ids = list(PrintJob.objects.filter(printer_id=printer_id).order_by("id").values_list("pk", flat=True))
while time.time() < {start_at}:
    time.sleep(0.005)
changed = [job_id for job_id in job_ids
           if services.job_mark_status(job_id=job_id, printer_id=printer_id, status={status!r},
                                      error_code={error_code!r}).changed]
print(json.dumps(changed))
"""


def run_concurrently(manage, script, variants, start_in=3.0):
    """Run the script in one process per variant, all starting their work at the same instant."""
    start_at = time.time() + start_in
    with ThreadPoolExecutor(len(variants)) as pool:
        futures = [pool.submit(manage.python, script.format(start_at=start_at, **variant)) for variant in variants]
        return [future.result() for future in futures]


@pytest.fixture(params=["postgresql", "sqlite"])
def queued_jobs(request, tmp_path):
    """60 pending receipts of one printer, in a database shared by separate processes."""
    if request.param == "postgresql":
        database_url = request.getfixturevalue("postgres_url")
    else:
        database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    manage = Manage(base_env(tmp_path, DATABASE_URL=database_url))
    manage("migrate", "--noinput")
    manage.add_printer("Balcão")
    manage.confirm_orders(60)
    return manage


def events_per_job(manage, *statuses):
    """{job id: number of events with one of these statuses}."""
    counts = manage.python(
        f"""
from django.db.models import Count
from printing.models import PrintJobEvent
rows = PrintJobEvent.objects.filter(status__in={list(statuses)!r}).values("job_id").annotate(n=Count("id"))
print(json.dumps({{row["job_id"]: row["n"] for row in rows}}))
"""
    )
    return {int(job_id): count for job_id, count in counts.items()}


@pytest.mark.e2e
def test_processes_claiming_at_once_never_claim_the_same_job(queued_jobs):
    manage = queued_jobs
    all_jobs = {job["id"] for job in manage.jobs()}
    assert len(all_jobs) == 60

    claims = run_concurrently(manage, CLAIM_SCRIPT, [{}] * 4)

    claimed = [job_id for claim in claims for job_id in claim]
    print(f"\njobs claimed by each of 4 processes: {[len(claim) for claim in claims]}")
    assert sorted(claimed) == sorted(all_jobs), "a job claimed twice, or not at all"
    assert {job["status"] for job in manage.jobs()} == {"sent"}
    assert sorted(events_per_job(manage, "sent")) == sorted(all_jobs)
    assert set(events_per_job(manage, "sent").values()) == {1}


@pytest.mark.e2e
def test_processes_reporting_at_once_move_each_job_exactly_once(queued_jobs):
    manage = queued_jobs
    run_concurrently(manage, CLAIM_SCRIPT, [{}], start_in=0)
    variants = [{"status": "completed", "error_code": ""}, {"status": "failed", "error_code": "interrupted"}] * 2

    changed = run_concurrently(manage, REPORT_SCRIPT, variants)

    jobs = manage.jobs()
    moved = [job_id for changes in changed for job_id in changes]
    assert sorted(moved) == sorted(job["id"] for job in jobs), "a job moved twice, or not at all"
    assert {job["status"] for job in jobs} <= {"completed", "failed"}
    finished = events_per_job(manage, "completed", "failed")
    assert len(finished) == 60 and set(finished.values()) == {1}


@pytest.mark.django_db(transaction=True)
def test_a_replaced_connection_claims_nothing_so_its_jobs_reach_the_new_one(make_printer, make_order):
    """The stale delivery race, made deterministic.

    An agent's connection died unseen (the network cut in tests/faults/test_network_cut.py), and
    the agent came back on a new connection, maybe to another server process. The new connection
    re-sends the jobs in flight; then the old one, a moment late (a wake-up it was handling, a
    sweep that read the database just before), claims more jobs. Sent into a dead socket, they
    would stay ``sent`` with nobody to print them until the agent reconnects again. So only the
    printer's current connection may claim its jobs.
    """
    from printing import selectors, services
    from printing.models import PrintJob

    printer = make_printer()
    services.printer_connected(printer_id=printer.pk, channel_name="daphne-a.old")
    services.printer_connected(printer_id=printer.pk, channel_name="daphne-b.new")
    assert selectors.jobs_in_flight(printer_id=printer.pk) == []  # the new connection's re-send
    make_order()
    job = PrintJob.objects.get(printer=printer)

    assert services.jobs_claim(printer_id=printer.pk, channel_name="daphne-a.old") == []
    assert PrintJob.objects.get(pk=job.pk).status == "pending"
    assert [p["job_id"] for p in services.jobs_claim(printer_id=printer.pk, channel_name="daphne-b.new")] == [job.pk]


@pytest.mark.django_db(transaction=True)
def test_a_connection_may_claim_while_no_other_one_took_its_printer_over(make_printer, make_order):
    from printing import services

    printer = make_printer()
    services.printer_connected(printer_id=printer.pk, channel_name="daphne-a.one")
    make_order()
    assert len(services.jobs_claim(printer_id=printer.pk, channel_name="daphne-a.one")) == 1
    services.printer_disconnected(printer_id=printer.pk, channel_name="daphne-a.one")
    make_order(customer_name="Bia")
    # Nobody holds the printer: a connection the sweep would not close may still deliver.
    assert len(services.jobs_claim(printer_id=printer.pk, channel_name="daphne-a.two")) == 1


@pytest.mark.e2e
@pytest.mark.redis
@requires_redis
def test_after_redis_restarts_a_connected_agent_still_hears_a_cancellation(tmp_path, children, postgres_url, redis):
    """A cancel has no sweep behind it: only the printer's group carries it to the agent.

    Redis restarting empties every group, so the consumers must join theirs again once Redis is
    back, or a job staff cancelled would still print.
    """
    import asyncio
    import json

    import websockets

    server_a, server_b = start_two_servers(tmp_path, children, postgres_url, redis.url, sweep_interval=1)
    token = server_a.manage.add_printer("Balcão")

    async def agent_session():
        async with websockets.connect(f"{server_a.agent_url}?token={token}") as websocket:

            async def next_message(kind, timeout):
                async with asyncio.timeout(timeout):
                    while True:
                        message = json.loads(await websocket.recv())
                        if message["type"] == kind:
                            return message

            await next_message("welcome", 10)
            await asyncio.to_thread(redis.stop)
            await asyncio.sleep(1)
            await asyncio.to_thread(redis.start)
            # The restarted Redis has no groups: wait until the consumer has joined its group
            # again (the condition itself, polled, not a guess of how long that takes).
            await asyncio.to_thread(
                wait_for, lambda: printer_groups_in(redis.url), 60, 0.1, "the consumer to join its printer group again"
            )
            await asyncio.to_thread(server_b.manage.confirm_orders, 1)
            job_id = (await next_message("new_order", 10))["order"]["job_id"]  # not acknowledged: it waits
            await asyncio.to_thread(
                server_b.manage.python,
                f"from printing import services\nservices.job_cancel(job_id={job_id})\nprint(json.dumps(True))",
            )
            cancel = await next_message("cancel", 30)  # no sweep behind it: the group carries it
            return job_id, cancel

    job_id, cancel = asyncio.run(agent_session())
    assert cancel["job_id"] == job_id
