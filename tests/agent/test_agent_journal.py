"""The agent's durable journal: semantics, and integrity under kill -9."""

import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from agent.journal import COMPLETED, INTERRUPTED, STARTED, Journal, JournalError
from tests.agent.agent_support import PYTHON, REPO


@pytest.fixture
def journal(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3", "ws://server/ws/agent/|tcp://printer:9100")
    yield journal
    journal.close()


def test_job_goes_from_started_to_completed(journal):
    journal.mark_started(1, 120, "abc")
    assert journal.get(1).state == STARTED
    journal.mark_completed(1)

    entry = journal.get(1)
    assert entry.state == COMPLETED
    assert (entry.byte_count, entry.sha256) == (120, "abc")
    assert entry.finished_at >= entry.started_at


def test_unknown_job_is_not_in_the_journal(journal):
    assert journal.get(99) is None


def test_job_cannot_complete_without_being_started(journal):
    with pytest.raises(JournalError):
        journal.mark_completed(5)
    assert journal.get(5) is None


def test_same_job_cannot_be_started_twice(journal):
    journal.mark_started(1, 1, "a")
    journal.mark_completed(1)
    with pytest.raises(JournalError, match="already"):
        journal.mark_started(1, 1, "a")
    assert journal.get(1).state == COMPLETED


def test_recover_turns_started_jobs_into_interrupted(journal):
    journal.mark_started(1, 1, "a")
    journal.mark_completed(1)
    journal.mark_started(2, 1, "a")

    assert journal.recover() == [2]
    assert journal.get(2).state == INTERRUPTED
    assert journal.get(1).state == COMPLETED
    assert journal.recover() == []


def test_interrupted_job_cannot_complete_later(journal):
    journal.mark_started(3, 1, "a")
    journal.mark_interrupted(3)
    with pytest.raises(JournalError):
        journal.mark_completed(3)


def test_scopes_keep_two_servers_job_ids_apart(tmp_path):
    path = tmp_path / "journal.sqlite3"
    first = Journal(path, "ws://one/ws/agent/|tcp://p:9100")
    second = Journal(path, "ws://two/ws/agent/|tcp://p:9100")
    first.mark_started(1, 1, "a")
    first.mark_completed(1)
    second.mark_started(1, 1, "b")

    assert first.get(1).state == COMPLETED
    assert second.get(1).state == STARTED
    assert first.recover() == []  # another scope's in-flight job is not ours to interrupt
    assert second.get(1).state == STARTED
    first.close()
    second.close()


def test_prune_forgets_old_finished_jobs_but_never_started_ones(journal):
    journal.mark_started(1, 1, "a")
    journal.mark_completed(1)
    journal.mark_started(2, 1, "a")
    journal.mark_started(3, 1, "a")
    journal.mark_interrupted(3)
    journal._db.execute(
        "UPDATE print_journal SET started_at = started_at - 8 * 86400, finished_at = finished_at - 8 * 86400"
    )
    journal.mark_started(4, 1, "a")
    journal.mark_completed(4)

    assert journal.prune() == 2
    assert [e.job_id for e in journal.entries()] == [2, 4]


def test_journal_commits_durably(journal):
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_journal_survives_reopen(tmp_path):
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, "s")
    journal.mark_started(8, 1, "a")
    journal.mark_completed(8)
    journal.close()

    assert Journal(path, "s").get(8).state == COMPLETED


def test_unwritable_journal_path_raises_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal(blocker / "journal.sqlite3", "s")


WRITER = """
import sys
from agent.journal import Journal
journal = Journal(sys.argv[1], "scope")
print("recovered", *journal.recover(), flush=True)
job_id = max((e.job_id for e in journal.entries()), default=0) + 1
while True:
    journal.mark_started(job_id, 100, "digest")
    sys.stdout.write(f"started {job_id}\\n")
    sys.stdout.flush()
    journal.mark_completed(job_id)
    sys.stdout.write(f"completed {job_id}\\n")
    sys.stdout.flush()
    job_id += 1
"""


@pytest.mark.timeout(120)
def test_journal_survives_kill_during_writes(tmp_path):
    path = tmp_path / "journal.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(1234)
    acknowledged: dict[int, str] = {}  # what the writer said it had committed
    started_at = time.monotonic()
    kills = 0
    while kills < 50:
        before = sqlite3.connect(path) if path.exists() else None
        in_flight = (
            sorted(row[0] for row in before.execute("SELECT job_id FROM print_journal WHERE state = 'started'"))
            if before
            else []
        )
        if before:
            before.close()

        writer = subprocess.Popen([PYTHON, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
        recovered_line = writer.stdout.readline().split()
        assert recovered_line[0] == "recovered"
        assert [int(x) for x in recovered_line[1:]] == in_flight  # exactly the torn jobs
        writer.stdout.readline()  # at least one commit before the kill
        time.sleep(rng.uniform(0, 0.03))
        writer.send_signal(signal.SIGKILL)
        output, _ = writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        kills += 1
        for line in output.splitlines(keepends=True):
            if not line.endswith("\n"):
                continue  # cut off by the kill: not an acknowledgement
            word, job_id = line.split()
            acknowledged[int(job_id)] = word

        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {
            job_id: (state, started, finished)
            for job_id, state, started, finished in db.execute(
                "SELECT job_id, state, started_at, finished_at FROM print_journal"
            )
        }
        db.close()
        assert sorted(rows) == list(range(1, len(rows) + 1))  # no gaps, no torn inserts
        assert sum(state == STARTED for state, _, _ in rows.values()) <= 1
        for state, started, finished in rows.values():
            assert state in (STARTED, COMPLETED, INTERRUPTED)
            if state != STARTED:
                assert finished is not None and finished >= started
        for job_id, word in acknowledged.items():
            assert job_id in rows, f"committed job {job_id} lost"
            if word == "completed":
                assert rows[job_id][0] == COMPLETED, f"completed job {job_id} came back {rows[job_id][0]}"

    # The kills did land between "started" and "completed" (else this proved little).
    assert any(state in (STARTED, INTERRUPTED) for state, _, _ in rows.values())
    assert time.monotonic() - started_at < 60


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs of this test's own: a disk that really fills (needs mount privileges)."""
    mountpoint = tmp_path / "tmpfs"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (mount privileges): {mounted.stderr.strip()}")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def fill(directory):
    """Fill the file system holding ``directory``; return the filler file."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_a_full_disk_is_journal_unwritable_and_passes_when_space_returns(small_tmpfs):
    from agent.journal import JournalUnwritable

    journal = Journal(small_tmpfs / "journal.sqlite3", "scope")
    try:
        journal.mark_started(1, 10, "a")
        filler = fill(small_tmpfs)
        with pytest.raises(JournalUnwritable) as full:
            for job_id in range(2, 200):  # the WAL grows page by page until the disk says no
                journal.mark_started(job_id, 10, "a")
        assert full.value.reason == "disk_full" and "disk full" in str(full.value)
        with pytest.raises(JournalUnwritable):
            journal.probe()
        assert journal.get(1).state == STARTED  # what was written stays readable

        filler.unlink()
        journal.probe()
        assert "already in the journal" not in str(full.value)
        journal.mark_started(500, 10, "a")
        assert journal.get(500).state == STARTED
    finally:
        journal.close()


@pytest.mark.parametrize("errno_name, reason", [("ENOSPC", "disk_full"), ("EROFS", "read_only")])
def test_the_injected_journal_fault_fails_every_write_while_its_file_exists(
    journal, tmp_path, monkeypatch, errno_name, reason
):
    from agent.journal import FAULT_FILE_ENV, JournalUnwritable

    fault = tmp_path / "journal-fault"
    monkeypatch.setenv(FAULT_FILE_ENV, str(fault))
    journal.mark_started(1, 10, "a")  # no file: no fault
    fault.write_text(errno_name)
    with pytest.raises(JournalUnwritable) as error:
        journal.mark_started(2, 10, "a")
    assert error.value.reason == reason
    assert journal.get(2) is None
    fault.unlink()
    journal.probe()
    journal.mark_started(2, 10, "a")
    assert [entry.job_id for entry in journal.entries()] == [1, 2]
