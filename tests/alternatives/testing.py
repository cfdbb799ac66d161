"""Other right answers to testing.write_a_test (tests that catch every known bug) pass too, on both backends."""

from __future__ import annotations


def one_assertion_a_step(r, allow_request):
    for request in range(1, 4):
        assert allow_request(r, "ada", 3, 60) is True, f"request {request} of 3 should be allowed"
    assert allow_request(r, "ada", 3, 60) is False, "request 4 of 3 should be refused"
    assert allow_request(r, "bob", 3, 60) is True, "bob has his own counter"
    ttl = r.pttl("ratelimit:ada")
    assert 0 < ttl <= 60_000, f"the counter should expire within the window, its PTTL is {ttl}"
    r.pexpire("ratelimit:ada", 1500)  # as if 58.5 s had passed
    assert allow_request(r, "ada", 3, 60) is False
    assert r.pttl("ratelimit:ada") <= 1500, "a request must not restart the window"


def with_a_small_limit_and_a_fresh_window(r, allow_request):
    assert allow_request(r, "u1", 1, 10)
    assert not allow_request(r, "u1", 1, 10)
    assert allow_request(r, "u2", 1, 10)
    assert r.ttl("ratelimit:u1") in range(1, 11)
    r.expire("ratelimit:u1", 2)
    allow_request(r, "u1", 1, 10)
    assert r.ttl("ratelimit:u1") <= 2
    r.delete("ratelimit:u1")  # the window is over: the user may come back
    assert allow_request(r, "u1", 1, 10)
    assert [allow_request(r, "u3", 2, 10) for _ in range(3)] == [True, True, False]


ALTERNATIVES = [
    ("testing.write_a_test", one_assertion_a_step),
    ("testing.write_a_test", with_a_small_limit_and_a_fresh_window),
]
