"""Fault scenario 4: the network between the agents and the server is cut and restored.

Every agent reaches the server through one loopback TCP proxy (tests/faults/netproxy.py). Two
outages while 300 orders come in:

1. a cut after which the old connections are dead (a router that restarted): each agent gets a
   reset and reconnects, while the server still holds the old connection, never told it is
   gone, and goes on sending it jobs until the new connection replaces it. Those jobs must
   reach the new connection, and never print twice;
2. a short cut after which the link comes back and every connection resumes (TCP retransmits:
   late, but nothing lost). What the agents sent meanwhile arrives at once, and the server must
   not take that for a flood (close 4429).
"""

import time

import pytest

from tests.faults.netproxy import TcpProxy
from tools.processes import free_port

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(240)]

PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",), "Retirada": ("scheduled",)}


@pytest.fixture
def proxy():
    proxy = TcpProxy(target_port=free_port())
    yield proxy
    proxy.close()


def test_network_cut_and_restored_loses_and_duplicates_nothing(make_rig, proxy):
    rig = make_rig(printers=PRINTERS)
    proxy.start()
    rig.start(agent_urls={name: proxy.url for name in PRINTERS}, server_ports=proxy.target_ports)
    rig.start_driver(orders=300, batch=10, interval=0.5)

    time.sleep(4)
    rig.note("network cut", backlog=rig.backlog())
    proxy.cut()
    time.sleep(8)
    proxy.restore(reset=True)
    rig.note("network restored, old connections dead", backlog=rig.backlog())

    time.sleep(6)
    rig.note("network cut", backlog=rig.backlog())
    proxy.cut()
    time.sleep(5)
    proxy.restore(reset=False)
    restored_at = rig.note("network restored, connections resume", backlog=rig.backlog())

    report, result = rig.finish("4-network-cut", restored_at=restored_at, cuts=2)

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    assert report.expected == 450
    server_log = rig.daphnes[0].log()
    assert server_log.count("event=agent_replaced") >= len(PRINTERS), "the stale connections were never replaced"
    assert "reason=too_many_messages" not in server_log, "a resumed link was taken for a flood"
