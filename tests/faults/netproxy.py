"""A loopback TCP proxy the test controls: the network between the agents and the server.

It runs its own asyncio loop in a thread, so a plain (synchronous) test can call :meth:`cut`
and :meth:`restore` while real processes talk through it.

- ``cut()``: nothing moves any more, in either direction, on any connection: the proxy stops
  reading, so bytes wait in the kernel as they would in a dead link's retransmit queue. New
  connections are accepted but held (the client's handshake gets no answer).
- ``restore(reset=False)``: the link comes back and every connection resumes where it
  stopped, as TCP does after a short outage.
- ``restore(reset=True)``: the link comes back, but the old connections did not survive (a
  NAT or router that restarted): the agent's side gets a reset, while the server's side is
  left open and silent — the server is never told, exactly the stale connection a real
  outage leaves behind. New connections work.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading

from tools.processes import free_port


class _Link:
    def __init__(self, proxy, client_reader, client_writer):
        self.proxy = proxy
        self.client_reader, self.client_writer = client_reader, client_writer
        self.upstream_reader = self.upstream_writer = None
        self.flowing = asyncio.Event()
        self.dead = False
        self.tasks = []

    async def run(self):
        await self.flowing.wait()
        if self.dead:
            return
        # A target that refuses the connection (a server restarting) is skipped for the next one,
        # as a load balancer's retry does; only when every target refuses is the client reset.
        for _ in range(len(self.proxy.target_ports)):
            try:
                self.upstream_reader, self.upstream_writer = await asyncio.open_connection(
                    "127.0.0.1", self.proxy.next_target()
                )
                break
            except OSError:
                self.proxy.connect_failures += 1
        else:
            self.abort_client()
            return
        self.tasks = [
            asyncio.create_task(self.pump(self.client_reader, self.upstream_writer)),
            asyncio.create_task(self.pump(self.upstream_reader, self.client_writer)),
        ]
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if not self.dead:
            self.close()

    async def pump(self, reader, writer):
        while True:
            await self.flowing.wait()
            if self.dead:
                return
            data = await reader.read(65536)
            await self.flowing.wait()  # bytes read just before a cut wait for the link too
            if self.dead:
                return
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    def abort_client(self):
        """Reset the agent's side (RST, not FIN): its connection is gone at once."""
        sock = self.client_writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.client_writer.transport.abort()

    def strand(self):
        """The link died unseen: reset the agent's side, leave the server's side hanging."""
        self.dead = True
        self.abort_client()
        for task in self.tasks:
            task.cancel()
        self.flowing.set()  # wake the pumps so that they see ``dead`` and stop

    def close(self):
        self.dead = True
        for writer in (self.client_writer, self.upstream_writer):
            if writer is not None:
                writer.transport.abort()


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target_port`` until told otherwise.

    With several ``target_ports`` it balances new connections over them in turn, as a load
    balancer in front of several server processes does.
    """

    def __init__(self, target_port=None, port=None, target_ports=None):
        self.target_ports = list(target_ports or [target_port])
        self.target_port = self.target_ports[0]
        self.connections_made = 0
        self.connect_failures = 0  # connections a target refused (retried on the next target)
        self.port = port or free_port()
        self.links = []
        self.is_cut = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="tcp-proxy", daemon=True)
        self.server = None

    def _call(self, coroutine_function, timeout=10):
        async def wrapper():
            return coroutine_function()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def start(self):
        self.thread.start()

        async def serve():
            self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)
        return self

    def next_target(self):
        port = self.target_ports[self.connections_made % len(self.target_ports)]
        self.connections_made += 1
        return port

    async def _accept(self, reader, writer):
        link = _Link(self, reader, writer)
        self.links.append(link)
        if not self.is_cut:
            link.flowing.set()
        await link.run()

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/ws/agent/"

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.port}"

    def cut(self):
        def do():
            self.is_cut = True
            for link in self.links:
                link.flowing.clear()

        self._call(do)

    def restore(self, reset=False):
        def do():
            self.is_cut = False
            for link in self.links:
                if link.dead:
                    continue
                if reset and not link.flowing.is_set():
                    link.strand()
                else:
                    link.flowing.set()

        self._call(do)

    def connections(self):
        """Links currently forwarding (not stranded)."""
        return sum(1 for link in self.links if not link.dead and link.upstream_writer is not None)

    def close(self):
        if not self.thread.is_alive():
            return

        async def shutdown():
            if self.server is not None:
                self.server.close()
            for link in self.links:
                link.dead = True
                link.flowing.set()
                link.close()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
