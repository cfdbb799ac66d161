"""Other right answers to the 10-crud exercises pass too (checks test behaviour, not one spelling)."""

from __future__ import annotations

import redis

CREATE_IF_NEW = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
"""

UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

DELETE_BOTH = """
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return deleted
"""


def _flat(fields):
    return [part for pair in fields.items() for part in pair]


def create_product_with_lua(r, product_id, fields):
    created = r.eval(CREATE_IF_NEW, 2, f"product:{product_id}", "products", product_id, *_flat(fields))
    return created == 1


def create_product_with_the_transaction_helper(r, product_id, fields):
    key = f"product:{product_id}"

    def create(pipe):
        if pipe.exists(key):
            return False
        pipe.multi()
        pipe.hset(key, mapping=fields)
        pipe.zadd("products", {product_id: 0})
        return True

    return r.transaction(create, key, value_from_callable=True)


def create_product_gives_up_when_beaten(r, product_id, fields):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        try:
            pipe.watch(key)
            if pipe.exists(key):
                return False
            pipe.multi()
            pipe.zadd("products", {product_id: 0}, nx=True)
            pipe.hset(key, mapping=fields)
            pipe.execute()
            return True
        except redis.WatchError:  # someone created it between our EXISTS and EXEC
            return False


def create_product_watch_and_retry(r, product_id, fields):
    key = f"product:{product_id}"
    while True:
        with r.pipeline() as pipe:
            try:
                pipe.watch(key, "products")
                if pipe.exists(key) or pipe.zscore("products", product_id) is not None:
                    return False
                pipe.multi()
                pipe.hset(key, mapping=fields)
                pipe.zadd("products", {product_id: 0})
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def update_product_with_lua(r, product_id, changes):
    return r.eval(UPDATE_IF_EXISTS, 1, f"product:{product_id}", *_flat(changes)) == 1


def update_product_with_transaction_helper(r, product_id, changes):
    key = f"product:{product_id}"

    def update(pipe):
        if not pipe.exists(key):
            return False
        pipe.multi()
        pipe.hset(key, mapping=changes)
        return True

    return r.transaction(update, key, value_from_callable=True)


def update_product_a_few_attempts(r, product_id, changes):
    key = f"product:{product_id}"
    for _attempt in range(5):  # another client changing the product makes EXEC fail: look again, a few times
        with r.pipeline() as pipe:
            try:
                pipe.watch(key)
                if not pipe.exists(key):
                    return False
                pipe.multi()
                pipe.hset(key, mapping=changes)
                pipe.execute()
                return True
            except redis.WatchError:
                continue
    raise RuntimeError(f"{key} kept changing; giving up after 5 attempts")


def delete_product_del_reply_as_bool(r, product_id):
    with r.pipeline() as pipe:
        pipe.zrem("products", product_id)
        pipe.delete(f"product:{product_id}")
        _, deleted = pipe.execute()
    return deleted > 0


def delete_product_with_lua(r, product_id):
    return r.eval(DELETE_BOTH, 2, f"product:{product_id}", "products", product_id) == 1


def delete_product_explicit_multi_unlink(r, product_id):
    pipe = r.pipeline()
    pipe.multi()
    pipe.unlink(f"product:{product_id}")
    pipe.zrem("products", product_id)
    deleted, _ = pipe.execute()
    return bool(deleted)


def delete_product_watch_then_delete(r, product_id):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                if not pipe.exists(key):
                    return False
                pipe.multi()
                pipe.delete(key)
                pipe.zrem("products", product_id)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def list_products_with_sort(r, page, per_page):
    ids = r.sort("products", start=(page - 1) * per_page, num=per_page, alpha=True)
    with r.pipeline() as pipe:
        for product_id in ids:
            pipe.hgetall(f"product:{product_id}")
        return [{"id": product_id, **fields} for product_id, fields in zip(ids, pipe.execute(), strict=True)]


def list_products_in_one_sort(r, page, per_page):
    flat = r.sort(
        "products",
        start=(page - 1) * per_page,
        num=per_page,
        alpha=True,
        get=["#", "product:*->name", "product:*->price"],
    )
    return [{"id": flat[i], "name": flat[i + 1], "price": flat[i + 2]} for i in range(0, len(flat), 3)]


def list_products_by_lex_with_limit(r, page, per_page):
    ids = r.zrangebylex("products", "-", "+", start=(page - 1) * per_page, num=per_page)
    pipe = r.pipeline(transaction=False)
    for product_id in ids:
        pipe.hgetall(f"product:{product_id}")
    return [{**fields, "id": product_id} for product_id, fields in zip(ids, pipe.execute(), strict=True)]


def list_products_by_score_with_limit(r, page, per_page):
    # ZRANGE ... BYSCORE LIMIT offset count (Redis 6.2+): every score is 0, so this is one page in id order
    ids = r.zrange("products", 0, 0, byscore=True, offset=(page - 1) * per_page, num=per_page)
    with r.pipeline(transaction=False) as pipe:
        for product_id in ids:
            pipe.hgetall(f"product:{product_id}")
        records = pipe.execute()
    return [dict(fields, id=product_id) for product_id, fields in zip(ids, records, strict=True)]


def list_products_asking_one_more(r, page, per_page):
    start = (page - 1) * per_page
    ids = r.zrange("products", start, start + per_page)  # one extra id tells whether a next page exists
    page_ids = ids[:per_page]
    with r.pipeline(transaction=False) as pipe:
        for product_id in page_ids:
            pipe.hgetall(f"product:{product_id}")
        records = pipe.execute()
    return [{"id": product_id, **fields} for product_id, fields in zip(page_ids, records, strict=True)]


ALTERNATIVES = [
    ("crud.create_product", create_product_with_lua),
    ("crud.create_product", create_product_with_the_transaction_helper),
    ("crud.create_product", create_product_gives_up_when_beaten),
    ("crud.create_product", create_product_watch_and_retry),
    ("crud.update_product", update_product_with_lua),
    ("crud.update_product", update_product_with_transaction_helper),
    ("crud.update_product", update_product_a_few_attempts),
    ("crud.delete_product", delete_product_with_lua),
    ("crud.delete_product", delete_product_explicit_multi_unlink),
    ("crud.delete_product", delete_product_watch_then_delete),
    ("crud.delete_product", delete_product_del_reply_as_bool),
    ("crud.list_products", list_products_with_sort),
    ("crud.list_products", list_products_in_one_sort),
    ("crud.list_products", list_products_by_lex_with_limit),
    ("crud.list_products", list_products_by_score_with_limit),
    ("crud.list_products", list_products_asking_one_more),
]
