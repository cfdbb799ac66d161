"""Quizzes: declared beside a topic's exercises, shown by id, answered in a widget (or by .choose(n)).

The answer lives here, not in the notebook, so that reading the cell does not give it away. Each answer is
recorded in progress (event "quiz"), so it reaches progress() and the classroom dashboard.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from . import _progress

_CODE = re.compile(r"`([^`]+)`")


def inline_markdown(text: str) -> str:
    """text as HTML, escaped, with `code` spans shown as code (quiz texts use no other markdown)."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


@dataclass(frozen=True)
class QuizVerdict:
    """What the learner chose, whether it was right, and why."""

    quiz_id: str
    chosen: str
    right: bool
    right_option: str
    explanation: str

    def __str__(self) -> str:
        if self.right:
            return f"✓ Right. {self.explanation}"
        return f"✗ Not quite: the answer is “{self.right_option}”. {self.explanation}"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.right else "#bc4c00"
        verdict = "✓ Right." if self.right else f"✗ Not quite: the answer is “{inline_markdown(self.right_option)}”."
        explanation = inline_markdown(self.explanation)
        return (
            f"<div class='course-quiz-verdict' style='line-height:1.4'><b style='color:{colour}'>{verdict}</b> "
            f"{explanation}</div>"
        )


@dataclass(frozen=True)
class Quiz:
    """A multiple-choice question; answer is the index of the right option."""

    id: str
    question: str
    options: tuple[str, ...]
    answer: int
    explanation: str
    notebook: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"quiz {self.id}: answer {self.answer} is not an index of its {len(self.options)} options")

    def choose(self, option: int) -> QuizVerdict:
        """Answer with the option's number (1 for the first), record it, and say whether it was right."""
        index = int(option) - 1
        if not 0 <= index < len(self.options):
            raise ValueError(f"Choose a number from 1 to {len(self.options)}: the options are numbered in the quiz.")
        right = index == self.answer
        _progress.record("quiz", self.id, correct=right, choice=index, notebook=self.notebook)
        return QuizVerdict(self.id, self.options[index], right, self.options[self.answer], self.explanation)

    def __str__(self) -> str:
        lines = [f"Quiz: {self.question}"]
        lines += [f"  {number}. {option}" for number, option in enumerate(self.options, 1)]
        lines.append(f'Answer with ch.quiz("{self.id}").choose(<number>).')
        return "\n".join(lines)

    def widget(self) -> Any:
        """Radio buttons, a Check button and the explanation once answered (ipywidgets)."""
        import ipywidgets as widgets

        # Radio button labels are plain text: backticks around code would show as they are.
        labels = [option.replace("`", "") for option in self.options]
        choice = widgets.RadioButtons(options=labels, value=None, layout={"width": "max-content"})
        button = widgets.Button(description="Check my answer", button_style="primary")
        feedback = widgets.HTML()

        def on_click(_button: Any) -> None:
            if choice.index is None:
                feedback.value = "<i>Pick an answer first.</i>"
                return
            feedback.value = self.choose(choice.index + 1)._repr_html_()

        button.on_click(on_click)
        # ipywidgets' HTML widget sets a 28 px line height: fine for one line, double-spaced for two.
        header = widgets.HTML(f"<div style='line-height:1.4'><b>Quiz:</b> {inline_markdown(self.question)}</div>")
        return widgets.VBox([header, choice, button, feedback])


def show_quiz(quiz: Quiz) -> Any:
    """The quiz as a widget where ipywidgets can render, else the quiz itself (printed with its options)."""
    try:
        return quiz.widget()
    except ImportError:
        return quiz
