"""The batch publisher against a real nats-server: a batch is done when the stream holds all of
it, a refusal fails the batch with the server's reason, and the acks of a batch given up on are
never counted for the next."""

import asyncio

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from warroom_shared.publisher import Publisher, PublishError, _refusal

STREAM = "PUBLISHED"


@pytest.fixture
async def publisher(nc: NATS) -> Publisher:
    await nc.jetstream().add_stream(name=STREAM, subjects=["published.>"], duplicate_window=60)
    return await Publisher(nc).start()


def batch(n: int, first: int = 0) -> list[tuple[str, bytes, dict[str, str]]]:
    return [
        (f"published.{i}", str(i).encode(), {"Nats-Msg-Id": f"m{i}", "traceparent": "t"})
        for i in range(first, first + n)
    ]


async def stored(nc: NATS) -> int:
    return (await nc.jetstream().stream_info(STREAM)).state.messages


async def test_a_batch_is_done_once_the_stream_holds_all_of_it(
    nc: NATS, publisher: Publisher
) -> None:
    await asyncio.wait_for(await publisher.send(batch(1200)), 10)
    assert await stored(nc) == 1200
    got = await nc.jetstream().get_msg(STREAM, 7)
    assert (got.subject, got.data, got.headers and got.headers["traceparent"]) == (
        "published.6",
        b"6",
        "t",
    )
    # a batch sent again (a relay after a crash) is acked as duplicates and stored once
    await asyncio.wait_for(await publisher.send(batch(1200)), 10)
    assert await stored(nc) == 1200


async def test_an_empty_batch_is_done_at_once(publisher: Publisher) -> None:
    assert (await publisher.send([])).done()


async def test_a_message_the_stream_refuses_fails_its_batch_with_the_reason(
    nc: NATS, publisher: Publisher
) -> None:
    refused = [*batch(3), ("published.x", b"x", {"Nats-Expected-Stream": "ANOTHER"})]
    with pytest.raises(PublishError, match=r"expected stream does not match \(code 10060\)"):
        await asyncio.wait_for(await publisher.send(refused), 10)
    # the publisher goes on: a later batch is acked on its own
    await asyncio.wait_for(await publisher.send(batch(2, first=10)), 10)
    assert await stored(nc) == 5


async def test_a_subject_no_stream_takes_fails_its_batch(publisher: Publisher) -> None:
    with pytest.raises(PublishError, match="no stream takes"):
        await asyncio.wait_for(await publisher.send([("nowhere.1", b"1", {})]), 10)


async def test_acks_of_a_batch_given_up_on_are_not_counted_for_the_next(
    nc: NATS, publisher: Publisher
) -> None:
    """The first batch is abandoned before its acks come back, and the stream refuses every
    message of the second: had the first's acks been counted for it, it would have succeeded."""
    (await publisher.send(batch(1000))).cancel()
    refused = [(s, p, {**h, "Nats-Expected-Stream": "ANOTHER"}) for s, p, h in batch(5, 1000)]
    with pytest.raises(PublishError, match="expected stream does not match"):
        await asyncio.wait_for(await publisher.send(refused), 10)
    assert await stored(nc) == 1000


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (b'{"stream":"R","seq":3}', None),
        (b'{"stream":"R","seq":3,"duplicate":true}', None),
        (b'{"seq":3,"stream":"R"}', None),  # read in full when not in the server's order
        (b'{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}',
         "maximum messages exceeded (code 10077)"),
        (b"not json", "unreadable ack"),
        (b'{"seq":3}', "unexpected ack"),
    ],
)  # fmt: skip
def test_an_ack_is_read_as_the_server_writes_it(data: bytes, refusal: str | None) -> None:
    found = _refusal(Msg(None, subject="_INBOX.x.0", data=data))  # type: ignore[arg-type]
    if refusal is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(refusal), found
