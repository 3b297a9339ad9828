"""cantina.channel_layers.InMemoryChannelLayer: Channels' semantics, without a scan per receive."""

import asyncio

import pytest
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

from cantina.channel_layers import InMemoryChannelLayer

pytestmark = pytest.mark.asyncio


async def test_it_is_the_default_single_process_layer(settings):
    from django.conf import settings as django_settings

    assert django_settings.CHANNEL_LAYERS["default"]["BACKEND"] == "cantina.channel_layers.InMemoryChannelLayer"


async def test_send_and_receive_in_order():
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "a"})
    await layer.send(channel, {"type": "b"})
    assert await layer.receive(channel) == {"type": "a"}
    assert await layer.receive(channel) == {"type": "b"}
    assert channel not in layer.channels  # an empty queue is not kept


async def test_an_expired_message_is_never_delivered_even_between_scans():
    layer = InMemoryChannelLayer(cleanup_interval=3600)
    channel = await layer.new_channel()
    await layer.group_add("printer-1", channel)
    layer.expiry = -1  # already expired when sent
    await layer.send(channel, {"type": "old"})
    layer.expiry = 60
    await layer.send(channel, {"type": "fresh"})
    assert await layer.receive(channel) == {"type": "fresh"}
    # As Channels does when a message expires: the channel leaves its groups.
    assert channel not in layer.groups.get("printer-1", {})


async def test_the_periodic_scan_drops_expired_messages_of_other_channels():
    layer = InMemoryChannelLayer(cleanup_interval=0)
    stale, live = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("staff", stale)
    layer.expiry = -1
    await layer.send(stale, {"type": "old"})
    layer.expiry = 60
    await layer.send(live, {"type": "new"})
    assert await layer.receive(live) == {"type": "new"}
    assert stale not in layer.channels
    assert stale not in layer.groups.get("staff", {})


async def test_group_send_reaches_every_member_until_discarded():
    layer = InMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("printer-1", first)
    await layer.group_add("printer-1", second)
    await layer.group_send("printer-1", {"type": "job.wakeup"})
    assert await layer.receive(first) == {"type": "job.wakeup"}
    assert await layer.receive(second) == {"type": "job.wakeup"}
    await layer.group_discard("printer-1", second)
    await layer.group_send("printer-1", {"type": "job.wakeup", "n": 2})
    assert await layer.receive(first) == {"type": "job.wakeup", "n": 2}
    assert second not in layer.channels


async def test_capacity_raises_channel_full_and_group_send_skips_a_full_channel():
    layer = InMemoryChannelLayer(capacity=2)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.send(channel, {"type": "1"})
    await layer.send(channel, {"type": "2"})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "3"})
    await layer.group_send("g", {"type": "4"})  # full: dropped, no error
    assert [await layer.receive(channel) for _ in range(2)] == [{"type": "1"}, {"type": "2"}]


async def test_group_membership_expires():
    layer = InMemoryChannelLayer(group_expiry=-1, cleanup_interval=0)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.group_send("g", {"type": "x"})  # the scan before sending drops the membership
    assert channel not in layer.channels


async def test_a_waiting_receiver_gets_a_later_message():
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    waiting = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0)
    await layer.send(channel, {"type": "late"})
    assert await asyncio.wait_for(waiting, 5) == {"type": "late"}


async def test_receives_do_not_each_scan_every_channel(monkeypatch):
    scans = []
    monkeypatch.setattr(ChannelsInMemoryChannelLayer, "_clean_expired", lambda self: scans.append(1))
    layer = InMemoryChannelLayer(cleanup_interval=3600)
    channels = [await layer.new_channel() for _ in range(1000)]
    waiting = [asyncio.create_task(layer.receive(channel)) for channel in channels]
    await asyncio.sleep(0)
    for channel in channels:
        await layer.send(channel, {"type": "x"})
    assert len(await asyncio.gather(*waiting)) == 1000
    assert len(scans) == 1, "a scan of every channel per receive is O(channels²) to connect them all"


async def test_it_knows_whether_anybody_listens_to_a_group():
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    assert not layer.has_members("staff")
    await layer.group_add("staff", channel)
    assert layer.has_members("staff")
    await layer.group_discard("staff", channel)
    assert not layer.has_members("staff")


async def test_the_sender_skips_groups_nobody_listens_to_and_keeps_the_order_of_the_rest(monkeypatch):
    from printing import notify

    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("staff", channel)
    sent = []
    group_send = layer.group_send

    async def recording(group, message):
        sent.append((group, message["n"]))
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", recording)
    for n, group in enumerate(["staff", "printer-9", "staff"]):
        notify._Sender.enqueue(layer, group, {"type": "job.updated", "n": n})
    await notify._Sender.senders[asyncio.get_running_loop()].task

    assert sent == [("staff", 0), ("staff", 2)]  # printer-9 has nobody: never sent
    assert [(await layer.receive(channel))["n"] for _ in range(2)] == [0, 2]
