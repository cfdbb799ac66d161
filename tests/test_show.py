"""show(r, key) renders every Redis type, on both backends."""

from __future__ import annotations

import course_helpers


def test_show_renders_each_type(r):
    r.set("name", "Ada", ex=100)
    r.rpush("queue", "a", "b")
    r.hset("user:1", mapping={"name": "Ada", "lang": "Python"})
    r.sadd("tags", "redis", "python")
    r.zadd("board", {"ada": 30, "bob": 10})
    r.xadd("events", {"kind": "login"})
    views = {key: course_helpers.show(r, key) for key in ("name", "queue", "user:1", "tags", "board", "events", "nope")}
    assert views["name"].value == "Ada" and "expires in" in repr(views["name"])
    assert list(views["queue"].table["value"]) == ["a", "b"]
    assert views["user:1"].table.loc["lang", "value"] == "Python"
    assert set(views["tags"].table["member"]) == {"redis", "python"}
    assert list(views["board"].table["member"]) == ["ada", "bob"] and views["board"].chart_png
    assert views["events"].table.iloc[0]["kind"] == "login"
    assert "no such key" in repr(views["nope"])
    assert "<table" in views["board"]._repr_html_() and "base64" in views["board"]._repr_html_()


def test_show_works_with_a_bytes_client(r):
    raw = course_helpers.connect(decode_responses=False)
    raw.hset("user:2", mapping={"name": "Grace"})
    assert course_helpers.show(raw, "user:2").table.loc["name", "value"] == "Grace"


def test_charts_never_switch_the_notebook_plotting_backend(r):
    import matplotlib

    matplotlib.use("svg")  # stands in for a notebook's inline backend
    r.zadd("board", {"ada": 3})
    assert course_helpers.show(r, "board").chart_png.startswith(b"\x89PNG")
    assert "data:image/png" in course_helpers.progress()._repr_html_()
    assert matplotlib.get_backend() == "svg"
