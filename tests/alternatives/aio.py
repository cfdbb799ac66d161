"""Other right answers to the asyncio exercises of 15-async-and-testing pass too, on fakeredis and on a real server."""

from __future__ import annotations

import asyncio
import sys


# -- aio.fetch_profiles ---------------------------------------------------------------------------------------
async def in_a_transaction(r, user_ids):
    async with r.pipeline() as pipe:  # MULTI ... EXEC: still one round trip
        for user_id in user_ids:
            pipe.hgetall(f"user:{user_id}")
        return await pipe.execute()


async def pipeline_without_with(r, user_ids):
    if not user_ids:
        return []
    pipe = r.pipeline(transaction=False)
    for user_id in user_ids:
        await pipe.hgetall(f"user:{user_id}")  # awaiting a queued command is harmless: it returns the pipeline
    replies = await pipe.execute()
    return [dict(reply) for reply in replies]


async def chained_pipeline(r, user_ids):
    pipe = r.pipeline(transaction=False)
    for key in (f"user:{user_id}" for user_id in user_ids):
        pipe = pipe.hgetall(key)
    return list(await pipe.execute())


# -- aio.collect ----------------------------------------------------------------------------------------------
async def with_wait_for_and_finally(r, channel, count, timeout):
    received = []
    async with r.pubsub() as pubsub:  # closes its connection on the way out
        await pubsub.subscribe(channel)

        async def read():
            while len(received) < count:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                if message is not None and message["type"] == "message":
                    received.append(message["data"])

        try:
            await asyncio.wait_for(read(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            await pubsub.unsubscribe()
    return received


async def with_a_deadline_and_unsubscribe_in_finally(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    received = []
    try:
        while len(received) < count and loop.time() < deadline:
            message = await pubsub.get_message(timeout=deadline - loop.time())
            if message and message["type"] == "message":
                received.append(message["data"])
    finally:
        await pubsub.unsubscribe(channel)
    return received


ALTERNATIVES = [
    ("aio.fetch_profiles", in_a_transaction),
    ("aio.fetch_profiles", pipeline_without_with),
    ("aio.fetch_profiles", chained_pipeline),
    ("aio.collect", with_wait_for_and_finally),
    ("aio.collect", with_a_deadline_and_unsubscribe_in_finally),
]

if sys.version_info >= (3, 11):  # asyncio.timeout is new in Python 3.11

    async def with_asyncio_timeout(r, channel, count, timeout):
        received = []
        async with r.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(channel)
            try:
                async with asyncio.timeout(timeout):
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            received.append(message["data"])
                            if len(received) == count:
                                break
            except TimeoutError:
                pass
            finally:
                await pubsub.unsubscribe(channel)
        return received

    ALTERNATIVES.append(("aio.collect", with_asyncio_timeout))
