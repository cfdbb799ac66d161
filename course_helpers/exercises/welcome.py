"""00-welcome: a warm-up that shows how check, hint and solution work."""

from __future__ import annotations

from .._exercise import Exercise, Mutant
from .._quiz import Quiz
from .._trial import Trial

NOTEBOOK = "00-welcome"


def save_greeting(r, name):
    r.set(f"greeting:{name}", f"Hello, {name}!")


def _returns_instead_of_storing(r, name):
    return f"Hello, {name}!"


def _wrong_key_separator(r, name):
    r.set(f"greeting-{name}", f"Hello, {name}!")


def _missing_punctuation(r, name):
    r.set(f"greeting:{name}", f"Hello {name}")


def check_greeting(t: Trial) -> str:
    for name in ("Ada", "Grace Hopper"):
        t.call(name)
        key = f"greeting:{name}"
        value = t.admin.get(key)
        if value is None:
            written = sorted(t.admin.scan_iter(count=100))
            where = (
                f" Your code wrote {written} instead: check the key name."
                if written
                else (
                    " Nothing was written: call r.set(key, value) inside the function (returning the text is not "
                    "storing it)."
                )
            )
            t.fail(f"After {t.last_call}, the key {key!r} does not exist.{where}")
        t.expect_equal(value, f"Hello, {name}!", f"After {t.last_call}, GET {key}")
    return "save_greeting stored each greeting under the right key. Checks work: on to the course!"


SAVE_GREETING = Exercise(
    id="welcome.save_greeting",
    title="Your first checked exercise",
    signature="save_greeting(r, name: str) -> None",
    task="Store the text 'Hello, <name>!' under the key greeting:<name>.",
    checker=check_greeting,
    reference=save_greeting,
    hints=(
        "A Redis string is set with r.set(key, value).",
        'Build the key with an f-string: f"greeting:{name}"; the value is f"Hello, {name}!".',
        'One line does it: r.set(f"greeting:{name}", f"Hello, {name}!").',
    ),
    mutants=(
        Mutant(_returns_instead_of_storing, "Nothing was written"),
        Mutant(_wrong_key_separator, "check the key name"),
        Mutant(_missing_punctuation, "expected 'Hello, Ada!'"),
    ),
)


EXERCISES = [SAVE_GREETING]


QUIZZES = [
    Quiz(
        id="welcome.quiz_isolation",
        question=(
            "Your answer to an exercise has a bug: it deletes every key it finds. You run its check. What happens to "
            "the keys in your own course database?"
        ),
        options=(
            "They are deleted too",
            "Nothing: the check ran your function on a fresh, private Redis of its own",
            "The check refuses to run code that deletes keys",
        ),
        answer=1,
        explanation=(
            "Each check hands your function a client on a throw-away Redis that starts empty and is discarded "
            "afterwards, so even FLUSHALL in an answer harms nothing of yours."
        ),
    ),
]
