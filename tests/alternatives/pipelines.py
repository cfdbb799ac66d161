"""09-pipelines: other right answers pass, on fakeredis and on a real redis-server."""

from __future__ import annotations


# -- pipelines.bulk_load -----------------------------------------------------------------------------------
def bulk_load_pipeline(r, items):
    pipe = r.pipeline(transaction=False)
    for key, value in items.items():
        pipe.set(key, value)
    pipe.execute()  # an empty pipeline sends nothing


def bulk_load_transaction(r, items):
    with r.pipeline() as pipe:
        for key, value in items.items():
            pipe.set(key, value)
        pipe.execute()


# -- pipelines.get_many ------------------------------------------------------------------------------------
def get_many_pipeline(r, keys):
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.get(key)
    return pipe.execute()


def get_many_mget_star(r, keys):
    return list(r.mget(*keys)) if keys else []


# -- pipelines.delete_in_chunks ----------------------------------------------------------------------------
def delete_in_chunks_del(r, keys, chunk_size=100):
    total = 0
    for start in range(0, len(keys), chunk_size):
        total += r.delete(*keys[start : start + chunk_size])
    return total


def delete_in_chunks_pipeline(r, keys, chunk_size=100):
    total = 0
    pipe = r.pipeline(transaction=False)
    for number, key in enumerate(keys, 1):
        pipe.delete(key)
        if number % chunk_size == 0 or number == len(keys):
            total += sum(pipe.execute())
    return total


def delete_in_chunks_while(r, keys, chunk_size=100):
    remaining, total = list(keys), 0
    while remaining:
        chunk, remaining = remaining[:chunk_size], remaining[chunk_size:]
        total += r.unlink(*chunk)
    return total


ALTERNATIVES = [
    ("pipelines.bulk_load", bulk_load_pipeline),
    ("pipelines.bulk_load", bulk_load_transaction),
    ("pipelines.get_many", get_many_pipeline),
    ("pipelines.get_many", get_many_mget_star),
    ("pipelines.delete_in_chunks", delete_in_chunks_del),
    ("pipelines.delete_in_chunks", delete_in_chunks_pipeline),
    ("pipelines.delete_in_chunks", delete_in_chunks_while),
]
