"""Every server's keepalive policy (services/runtime/_server.py) against a gateway that pings:
a Watch on a quiet campaign outlives the point where grpc core's default policy ends it, and
so does the gateway's idle connection.

The client pings like a Go, Java or Envoy gateway (``grpc.http2.max_pings_without_data`` 0: a
Python client would otherwise stop after two pings while nothing is sent), every 1.25 times
the server's minimum. The default server policy (a ping less than 5 minutes after the last,
while the server sends nothing, is a strike; the third strike gets GOAWAY too_many_pings)
would end both connections at the client's 4th ping; the test holds on until well past that
and past the ping at which ours would end them too if it counted these pings as strikes,
then buys a slot and sees it arrive on the Watch. The server is notify's, started as every
service is, through ``services.runtime.serve``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import notify_pb2_grpc, types_pb2
from services.lab.cluster import NatsServer
from services.runtime._server import (
    KEEPALIVE_MAX_PING_STRIKES,
    KEEPALIVE_MIN_PING_INTERVAL_MS,
    SERVER_OPTIONS,
)
from tests._support.world import open_world, store_url
from tests.notify._support import buy, stack, watch_request, watching

PING_MS = KEEPALIVE_MIN_PING_INTERVAL_MS * 5 // 4
GATEWAY_OPTIONS = [
    ("grpc.use_local_subchannel_pool", 1),  # a connection of its own
    ("grpc.keepalive_time_ms", PING_MS),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.http2.max_pings_without_data", 0),  # keep pinging while nothing is sent
    ("grpc.keepalive_permit_without_calls", 1),  # and with no call in flight
]
DEFAULT_POLICY_ENDS_AT_S = 4 * PING_MS / 1000
"""The default policy's GOAWAY: the first ping is free, the 2nd and 3rd are strikes 1 and 2,
the 4th is one strike too many."""
OUR_STRIKES_WOULD_END_AT_S = (KEEPALIVE_MAX_PING_STRIKES + 2) * PING_MS / 1000
HOLD_S = max(DEFAULT_POLICY_ENDS_AT_S, OUR_STRIKES_WOULD_END_AT_S) + PING_MS / 1000


def test_the_policy_is_in_the_server_options() -> None:
    options = dict(SERVER_OPTIONS)
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == \
        KEEPALIVE_MIN_PING_INTERVAL_MS
    assert options["grpc.http2.max_ping_strikes"] == KEEPALIVE_MAX_PING_STRIKES
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.keepalive_time_ms"] >= 10_000
    assert options["grpc.keepalive_timeout_ms"] < options["grpc.keepalive_time_ms"]


@pytest.mark.asyncio
async def test_a_pinging_gateway_keeps_its_quiet_watch_and_its_idle_connection(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s:
        await open_world(s.buy_stub, campaigns=("quiet",))
        target = f"127.0.0.1:{s.notify.port}"
        async with grpc.aio.insecure_channel(target, GATEWAY_OPTIONS) as watch_channel, \
                grpc.aio.insecure_channel(target, GATEWAY_OPTIONS) as idle_channel:
            stream = await watching(notify_pb2_grpc.NotifyServiceStub(watch_channel),
                                    watch_request("quiet"))
            idle = notify_pb2_grpc.NotifyServiceStub(idle_channel)
            await idle.GetCampaign(types_pb2.GetCampaignRequest(campaign_id="quiet"))
            assert idle_channel.get_state() == grpc.ChannelConnectivity.READY
            idle_left_ready = asyncio.create_task(
                idle_channel.wait_for_state_change(grpc.ChannelConnectivity.READY))

            started = time.monotonic()
            try:
                while time.monotonic() - started < HOLD_S:
                    assert not stream.ended, (
                        f"the Watch ended after {time.monotonic() - started:.1f} s of pings "
                        f"every {PING_MS} ms: {stream.error}")
                    assert not idle_left_ready.done(), (
                        f"the idle connection left READY after "
                        f"{time.monotonic() - started:.1f} s (for {idle_channel.get_state()})")
                    await asyncio.sleep(0.1)
                # Nothing but the snapshot was sent: the pings were all the connection carried.
                assert len(stream.received) == 1

                bought = await buy(s.buy_stub, "alice", "quiet")
                await stream.until_slot(bought.slot.slot, "quiet")
                assert idle_channel.get_state() == grpc.ChannelConnectivity.READY
            finally:
                idle_left_ready.cancel()
                await stream.close()
