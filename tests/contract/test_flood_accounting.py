"""Protocol v1, the flood limit: only replies the server asked for are free of it.

Unit tests on ``AgentConsumer.solicited``, the one place that decides it (the end-to-end flood
tests are in test_agent_protocol.py).
"""

from printing.consumers import AgentConsumer


def consumer_owing(statuses):
    consumer = AgentConsumer()
    consumer.owed_statuses = {job_id: set(owed) for job_id, owed in statuses.items()}
    consumer.pings_unanswered = 0
    return consumer


def test_a_status_for_a_job_sent_here_is_solicited_once_per_status():
    consumer = consumer_owing({1: {"printing", "completed", "failed"}})
    report = {"type": "print_status", "job_id": 1, "status": "printing"}
    assert consumer.solicited(report) is True
    assert consumer.solicited(report) is False  # the same status again is unsolicited


def test_a_job_id_that_is_a_boolean_is_never_mistaken_for_job_1():
    # JSON true == 1 as a dict key: without the bool check it would spend job 1's owed status.
    consumer = consumer_owing({1: {"printing", "completed", "failed"}})
    assert consumer.solicited({"type": "print_status", "job_id": True, "status": "printing"}) is False
    assert consumer.owed_statuses[1] == {"printing", "completed", "failed"}


def test_a_job_id_that_is_not_a_number_is_unsolicited():
    consumer = consumer_owing({1: {"printing", "completed", "failed"}})
    assert consumer.solicited({"type": "print_status", "job_id": "1", "status": "printing"}) is False
    assert consumer.solicited({"type": "print_status", "job_id": None, "status": "completed"}) is False
    assert consumer.owed_statuses[1] == {"printing", "completed", "failed"}


def test_a_final_status_settles_the_job_and_a_pong_is_free_only_when_a_ping_is_owed():
    consumer = consumer_owing({7: {"printing", "completed", "failed"}})
    assert consumer.solicited({"type": "print_status", "job_id": 7, "status": "completed"}) is True
    assert 7 not in consumer.owed_statuses
    assert consumer.solicited({"type": "print_status", "job_id": 7, "status": "failed"}) is False
    assert consumer.solicited({"type": "pong"}) is False
    consumer.pings_unanswered = 1
    assert consumer.solicited({"type": "pong"}) is True
    assert consumer.solicited({"type": "pong"}) is False
