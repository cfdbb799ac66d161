"""show(r, key): what a key holds, by its type, as a table (and a bar chart for sorted sets)."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis

if TYPE_CHECKING:
    import pandas as pd

MAX_ITEMS = 200


def _text(value: Any) -> Any:
    return value.decode(errors="backslashreplace") if isinstance(value, bytes) else value


@dataclass
class KeyView:
    """A key's type, TTL and contents; renders as HTML in a notebook, text elsewhere."""

    key: str
    type: str
    ttl: int
    table: pd.DataFrame | None
    value: Any = None
    chart_png: bytes | None = None

    def _heading(self) -> str:
        if self.type == "none":
            return f"{self.key}: no such key"
        expiry = "no expiry" if self.ttl == -1 else f"expires in {self.ttl} s"
        size = "" if self.table is None else f", {len(self.table)} item(s)"
        return f"{self.key} ({self.type}{size}, {expiry})"

    def __repr__(self) -> str:
        body = repr(self.value) if self.table is None else self.table.to_string()
        return self._heading() if self.type == "none" else f"{self._heading()}\n{body}"

    def _repr_html_(self) -> str:
        heading = f"<b>{html.escape(self._heading())}</b>"
        if self.type == "none":
            return heading
        if self.table is None:
            return f"{heading}<pre>{html.escape(repr(self.value))}</pre>"
        chart = ""
        if self.chart_png:
            chart = f"<img src='data:image/png;base64,{base64.b64encode(self.chart_png).decode()}'>"
        return (
            f"{heading}<div style='display:flex;gap:16px;align-items:flex-start'>"
            f"{self.table.to_html(max_rows=MAX_ITEMS)}{chart}</div>"
        )


def figure_png(figure: Any) -> bytes:
    """A matplotlib Figure as PNG bytes.

    A bare Figure draws itself without pyplot, so this never switches the notebook's plotting backend.
    """
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def _bar_chart(members: list[str], scores: list[float]) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 0.3 * len(members) + 0.8))
    axes = figure.subplots()
    axes.barh(members[::-1], scores[::-1], color="#d82c20")
    axes.set_xlabel("score")
    return figure_png(figure)


def show(r: redis.Redis, key: str) -> KeyView:
    """Show what key holds: strings as values, lists/hashes/sets/sorted sets/streams as tables."""
    import pandas as pd  # imported on first use: it is the slowest import of the course

    kind = _text(r.type(key))
    ttl = int(r.ttl(key))
    if kind == "string":
        return KeyView(key, kind, ttl, None, _text(r.get(key)))
    if kind == "list":
        items = [_text(v) for v in r.lrange(key, 0, MAX_ITEMS - 1)]
        return KeyView(key, kind, ttl, pd.DataFrame({"value": items}).rename_axis("index"))
    if kind == "hash":
        fields = {_text(k): _text(v) for k, v in r.hgetall(key).items()}
        return KeyView(key, kind, ttl, pd.DataFrame({"value": fields}).rename_axis("field"))
    if kind == "set":
        members = sorted(_text(m) for m in r.smembers(key))
        return KeyView(key, kind, ttl, pd.DataFrame({"member": members[:MAX_ITEMS]}))
    if kind == "zset":
        pairs: Any = r.zrange(key, 0, MAX_ITEMS - 1, desc=True, withscores=True)
        members = [_text(m) for m, _ in pairs]
        scores = [float(s) for _, s in pairs]
        table = pd.DataFrame({"member": members, "score": scores}, index=pd.RangeIndex(1, len(pairs) + 1, name="rank"))
        return KeyView(key, kind, ttl, table, chart_png=_bar_chart(members[:20], scores[:20]) if pairs else None)
    if kind == "stream":
        entries: Any = r.xrange(key, count=MAX_ITEMS)
        rows = {_text(entry_id): {_text(k): _text(v) for k, v in data.items()} for entry_id, data in entries}
        return KeyView(key, kind, ttl, pd.DataFrame.from_dict(rows, orient="index").rename_axis("id"))
    return KeyView(key, kind, ttl, None)
