"""Other right answers to the pub/sub exercises pass too, on fakeredis and on a real redis-server."""

from __future__ import annotations

import threading
import time


# -- pubsub.collect_messages -------------------------------------------------------------------------
def collect_with_a_context_manager(r, channel, count, timeout):
    found = []
    deadline = time.monotonic() + timeout
    with r.pubsub() as pubsub:  # leaving the block closes the PubSub, which ends the subscription
        pubsub.subscribe(channel)
        while len(found) < count and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message and message["type"] == "message":
                found.append(message["data"])
    return found


def collect_by_polling(r, channel, count, timeout):
    pubsub = r.pubsub()
    pubsub.subscribe(channel)
    found = []
    end = time.time() + timeout
    while len(found) < count and time.time() < end:
        message = pubsub.get_message()  # returns at once; sleep a little when nothing is there
        if message is None:
            time.sleep(0.01)
        elif message["type"] == "message":
            found.append(message["data"])
    pubsub.unsubscribe()
    pubsub.close()
    return found


def collect_with_run_in_thread(r, channel, count, timeout):
    found = []
    enough = threading.Event()

    def handler(message):
        found.append(message["data"])
        if len(found) >= count:
            enough.set()

    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(**{channel: handler})
    worker = pubsub.run_in_thread(sleep_time=0.01, daemon=True)
    enough.wait(timeout)
    worker.stop()
    worker.join(timeout=1)
    return found[:count]


def collect_after_the_confirmation(r, channel, count, timeout):
    deadline = time.monotonic() + timeout
    pubsub = r.pubsub()
    try:
        pubsub.subscribe(channel)
        found = []
        while len(found) < count and (left := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=left)
            if message is None:
                continue  # nothing yet: not the end, the deadline decides
            if message["type"] == "message":
                found.append(message["data"])
        return found
    finally:
        pubsub.unsubscribe(channel)
        pubsub.close()


# -- pubsub.collect_pattern --------------------------------------------------------------------------
def collect_pattern_as_lists_and_close(r, pattern, count, timeout):
    pubsub = r.pubsub()
    pubsub.psubscribe(pattern)
    pairs = []
    deadline = time.monotonic() + timeout
    try:
        while len(pairs) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            message = pubsub.get_message(timeout=left)
            if message and message["type"] == "pmessage":
                pairs.append([message["channel"], message["data"]])
    finally:
        pubsub.close()  # closing the connection drops the pattern too
    return pairs


# -- pubsub.announce ---------------------------------------------------------------------------------
def announce_without_a_transaction(r, room, text, keep=50):
    pipe = r.pipeline(transaction=False)
    pipe.publish(f"chat:{room}", text)
    pipe.rpush(f"chat:{room}:history", text)
    pipe.ltrim(f"chat:{room}:history", -keep, -1)
    return pipe.execute()[0]


def announce_history_first(r, room, text, keep=50):
    key = f"chat:{room}:history"
    with r.pipeline() as pipe:
        pipe.rpush(key, text).ltrim(key, -keep, -1).publish(f"chat:{room}", text)
        *_, receivers = pipe.execute()
    return int(receivers)


ALTERNATIVES = [
    ("pubsub.collect_messages", collect_with_a_context_manager),
    ("pubsub.collect_messages", collect_by_polling),
    ("pubsub.collect_messages", collect_with_run_in_thread),
    ("pubsub.collect_messages", collect_after_the_confirmation),
    ("pubsub.collect_pattern", collect_pattern_as_lists_and_close),
    ("pubsub.announce", announce_without_a_transaction),
    ("pubsub.announce", announce_history_first),
]
