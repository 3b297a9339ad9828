"""The single-process channel layer: Channels' in-memory layer without its O(channels) receive.

Channels' ``InMemoryChannelLayer`` runs ``_clean_expired`` on every ``receive`` and every
``group_send``: a scan of every channel's queue and every group membership. Each connected agent
waits in ``receive`` on a channel of its own, so connecting N agents cost O(N²) — the bench's
1,000 idle agents connected at 69/s, and 3,097 agents was all it managed in 100 s.

Here the full scan runs at most once every ``cleanup_interval`` seconds (a scan of 10,000 idle
channels is a few milliseconds, once a second), and ``receive`` drops expired messages at the
head of its own queue, so an expired message is never delivered, exactly as before. Everything
else (capacity, ``ChannelFull``, groups, group expiry, flush) is Channels' own code.
"""

import asyncio
import time
from copy import deepcopy

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    def __init__(self, cleanup_interval=1.0, **kwargs):
        super().__init__(**kwargs)
        self.cleanup_interval = cleanup_interval
        self._next_cleanup = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now < self._next_cleanup:
            return
        self._next_cleanup = now + self.cleanup_interval
        super()._clean_expired()

    def has_members(self, group):
        """Whether some channel listens to ``group``. This layer serves one process only, so the
        answer is exact: nobody in another process could be listening."""
        return bool(self.groups.get(group))

    def _queue(self, channel):
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    async def send(self, channel, message):
        # Channels' send, without building a throw-away Queue for every message.
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        queue = self._queue(channel)
        try:
            queue.put_nowait((time.time() + self.expiry, deepcopy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def receive(self, channel):
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self._queue(channel)
        try:
            while True:
                expires, message = await queue.get()
                if expires >= time.time():
                    return message
                # Expired while waiting for the next scan: dropped, as the scan would have done.
                self._remove_from_groups(channel)
        finally:
            if queue.empty():
                self.channels.pop(channel, None)
