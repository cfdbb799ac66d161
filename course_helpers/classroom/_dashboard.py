"""The instructor's live dashboard: student × exercise grid, pass rates, common mistakes, stuck students."""

from __future__ import annotations

import html
import threading
from typing import Any

import redis

from ._analysis import common_mistakes, quiz_results, stuck_students
from ._report import report_frames

STATE_COLOURS = {"": "#f6f8fa", "hint": "#fff8c5", "solution": "#ffd8b5", "trying": "#ffb8b0", "passed": "#4ac26b"}


def _snapshot(hub_url: str, stuck_minutes: float) -> dict[str, Any]:
    events, grid, pass_rate = report_frames(hub_url)
    return {
        "students": list(grid.index),
        "events": events,
        "grid": grid,
        "pass_rate": pass_rate,
        "mistakes": common_mistakes(events),
        "stuck": stuck_students(events, minutes=stuck_minutes),
        "quizzes": quiz_results(events),
    }


def _grid_figure(grid: Any, pass_rate: Any) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    states = list(STATE_COLOURS)
    codes = grid.apply(lambda column: column.map(states.index)).to_numpy()
    figure, (heat, bars) = plt.subplots(
        1, 2, figsize=(14, 0.35 * len(grid) + 2.5), gridspec_kw={"width_ratios": [3, 1]}
    )
    heat.imshow(codes, cmap=ListedColormap(list(STATE_COLOURS.values())), vmin=0, vmax=len(states) - 1, aspect="auto")
    heat.set_yticks(range(len(grid)), grid.index)
    heat.set_xticks(range(len(grid.columns)), grid.columns, rotation=75, fontsize=7)
    heat.set_title("Each student × each exercise (green passed, red trying, orange saw solution, yellow hint)")
    bars.barh(list(pass_rate.index)[::-1], list(pass_rate.values * 100)[::-1], color="#4ac26b")
    bars.set_xlim(0, 100)
    bars.set_xlabel("% of students passed")
    bars.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    return figure


def dashboard(hub_url: str, stuck_minutes: float = 10.0, refresh_seconds: float = 15.0) -> Any:
    """A live dashboard widget: a Refresh button, an auto-refresh toggle, and the class's progress."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    output = widgets.Output()
    status = widgets.HTML()
    refresh = widgets.Button(description="Refresh", icon="refresh", button_style="primary")
    auto = widgets.ToggleButton(description=f"Auto-refresh every {refresh_seconds:g} s", value=False)
    stuck_after = widgets.FloatSlider(value=stuck_minutes, min=0, max=60, step=1, description="Stuck after (min)")
    stop = threading.Event()

    def draw(*_: Any) -> None:
        try:
            data = _snapshot(hub_url, stuck_after.value)
        except redis.RedisError as error:
            status.value = f"<b style='color:#cf222e'>The class server did not answer ({html.escape(str(error))}).</b>"
            return
        with output:
            output.clear_output(wait=True)
            if not data["students"]:
                display(HTML("No students yet: run <code>python -m course_helpers classroom setup</code>."))
                return
            figure = _grid_figure(data["grid"], data["pass_rate"])
            plt.show(figure)
            display(HTML("<h4>Most common mistakes</h4>"), data["mistakes"])
            display(HTML(f"<h4>Stuck for more than {stuck_after.value:g} min</h4>"), data["stuck"])
            display(HTML("<h4>Quizzes</h4>"), data["quizzes"])
        status.value = f"{len(data['students'])} students, {len(data['events'])} events."

    def tick() -> None:
        while not stop.wait(refresh_seconds):
            if auto.value:
                draw()

    refresh.on_click(draw)
    threading.Thread(target=tick, daemon=True, name="dashboard-refresh").start()
    draw()
    return widgets.VBox([widgets.HBox([refresh, auto, stuck_after]), status, output])
