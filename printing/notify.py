"""Channel-layer messages sent after commit: wake-ups for agents, updates for staff pages.

A lost message here never loses a job: the database is the source of truth and each server
process sweeps for pending jobs (see printing.consumers.AgentRegistry). So failures are logged,
never raised into the request that confirmed the order.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from printing.groups import STAFF_GROUP, printer_group

log = logging.getLogger("cantina.printing")


def _group_send(group, message):
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as error:  # the channel layer is optional for correctness, never for the caller
        log.warning("event=channel_layer_send_failed group=%s error=%r", group, str(error))


def job_wakeup(printer_id, job_id):
    _group_send(printer_group(printer_id), {"type": "job.wakeup", "job_id": job_id})


def agent_job_cancelled(printer_id, job_id):
    """Tell the printer's agent connection that a job it was sent is cancelled (it drops it)."""
    _group_send(printer_group(printer_id), {"type": "agent.job_cancelled", "job_id": job_id})


def agent_recheck(printer_id):
    """Ask live connections of this printer to re-check their token and whether it is enabled."""
    _group_send(printer_group(printer_id), {"type": "agent.recheck"})


def staff_job_updated(job_data):
    _group_send(STAFF_GROUP, {"type": "job.updated", "job": job_data})


def staff_printer_updated(printer_data):
    _group_send(STAFF_GROUP, {"type": "printer.updated", "printer": printer_data})


def staff_order_updated(order_data):
    _group_send(STAFF_GROUP, {"type": "order.updated", "order": order_data})
