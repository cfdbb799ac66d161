"""Exercise: a task declared in a few lines (checker, tiered hints, reference answer, known wrong answers)."""

from __future__ import annotations

import ast
import html
import inspect
import linecache
import os
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import CodeType
from typing import Any

import redis

from . import _progress
from ._async_trial import AsyncTrial, answer_kind_problem
from ._private_server import real_server_for_checks
from ._results import CheckResult, Outcome, Status
from ._safety import CourseEnvironmentError
from ._sandbox import run_isolated
from ._trial import CheckFailed, LearnerRaised, ServerTooOld, Trial, TrialRedis


class _Placeholder:
    """The blank a learner replaces: `____` in exercise cells."""

    def __repr__(self) -> str:
        return "____"


____ = _Placeholder()

_EMPTY_BODY_TYPES = (ast.Pass,)


def _body_is_blank(body: list[ast.stmt]) -> bool:
    statements = list(body)
    if (
        statements
        and isinstance(statements[0], ast.Expr)
        and isinstance(statements[0].value, ast.Constant)
        and isinstance(statements[0].value.value, str)
    ):
        statements = statements[1:]  # a docstring alone is still blank
    for statement in statements:
        if isinstance(statement, _EMPTY_BODY_TYPES):
            continue
        if (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and statement.value.value is Ellipsis
        ):
            continue
        if isinstance(statement, ast.Raise) and "NotImplementedError" in ast.unparse(statement):
            continue
        return False
    return True


def is_placeholder(answer: Any) -> bool:
    """True for ____, ..., and a function whose body is only pass, ..., a docstring or uses ____."""
    if answer is ____ or answer is Ellipsis:
        return True
    code = getattr(answer, "__code__", None)
    if code is None:
        return False
    if "____" in code.co_names:
        return True
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(answer)))
    except (OSError, TypeError, SyntaxError):
        return code.co_code == _blank.__code__.co_code and code.co_consts[:1] in ((None,), ())
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return bool(functions) and _body_is_blank(functions[0].body)


def _blank() -> None:
    pass


@dataclass(frozen=True)
class Mutant:
    """A known wrong answer and a fragment its check message must contain."""

    answer: Callable[..., Any]
    expect: str
    status: Status = "fail"


@dataclass(frozen=True)
class Hint:
    """One hint; says how to get the next one."""

    exercise_id: str
    level: int
    total: int
    text: str

    def _footer(self) -> str:
        if self.level < self.total:
            return f"Call .hint() on this exercise again for hint {self.level + 1} of {self.total}."
        return "That was the last hint; .solution() on this exercise shows a model answer."

    def __str__(self) -> str:
        return f"Hint {self.level} of {self.total} [{self.exercise_id}]: {self.text}\n{self._footer()}"

    def _repr_html_(self) -> str:
        return (
            "<div style='border-left:6px solid #bf8700;padding:6px 10px;background:#bf870012'>"
            f"<b>💡 Hint {self.level} of {self.total}</b> <code>{html.escape(self.exercise_id)}</code><br>"
            f"{html.escape(self.text)}<br><i>{html.escape(self._footer())}</i></div>"
        )


@dataclass(frozen=True)
class Solution:
    """The reference answer's source, shown on request."""

    exercise_id: str
    source: str
    note: str

    def __str__(self) -> str:
        return f"A model answer for {self.exercise_id}:\n\n{self.source}\n{self.note}"

    def _repr_markdown_(self) -> str:
        return f"**A model answer for `{self.exercise_id}`**\n\n```python\n{self.source}\n```\n\n{self.note}"


def _required_arity(signature: str) -> tuple[str, int, int]:
    """From 'name(r, page: str, limit: int = 5) -> int': (name, required args, all args)."""
    tree = ast.parse(f"def {signature}: pass")
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    total = len(function.args.args)
    return function.name, total - len(function.args.defaults), total


@dataclass(frozen=True)
class Exercise:
    """One checked exercise. check(answer) judges a learner's function on a fresh private Redis."""

    id: str
    title: str
    signature: str
    task: str
    checker: Callable[[Trial], str | None]
    reference: Callable[..., Any]
    hints: Sequence[str]
    mutants: Sequence[Mutant] = ()
    timeout: float = 10.0
    passes_client: bool = True

    @property
    def notebook(self) -> str:
        """The lesson this exercise belongs to ("02-strings-and-counters"): its module's NOTEBOOK."""
        return str(getattr(sys.modules[self.checker.__module__], "NOTEBOOK", ""))

    @property
    def is_async(self) -> bool:
        """True when the answer is an `async def` (as the reference is): it is checked on an event loop."""
        return inspect.iscoroutinefunction(self.reference)

    @property
    def function_name(self) -> str:
        """The name the learner's function has in the exercise cell."""
        return _required_arity(self.signature)[0]

    # -- checking ---------------------------------------------------------------------------------
    def check(self, answer: Any, *, backend: str | None = None) -> CheckResult:
        """Judge answer (the learner's function) and record the outcome in the progress file."""
        started = time.perf_counter()
        result = self._judge(answer, backend or os.environ.get("COURSE_CHECK_BACKEND", "fake"))
        result = replace(result, seconds=round(time.perf_counter() - started, 4))
        _progress.record("check", self.id, status=result.status, message=result.message[:500], notebook=self.notebook)
        return result

    def _result(self, status: Status, message: str, **extra: Any) -> CheckResult:
        return CheckResult(self.id, status, message, **extra)

    def _judge(self, answer: Any, backend: str) -> CheckResult:
        name = self.function_name
        if is_placeholder(answer):
            return self._result(
                "not_attempted",
                f"Replace the ____ (or pass) in {name} with your code, run that cell, then run this one again.",
            )
        if not callable(answer):
            called = (
                " It looks like you called the function: leave out the parentheses."
                if answer is None or isinstance(answer, (str, int, bool, list, dict))
                else ""
            )
            return self._result(
                "fail",
                f"check() needs your function itself, as in .check({name}), but it got "
                f"{type(answer).__name__} {answer!r:.60}.{called}",
            )
        arity_problem = self._arity_problem(answer) or answer_kind_problem(self.is_async, name, answer)
        if arity_problem:
            return self._result("fail", arity_problem)
        url: str | None = None
        if backend == "real":
            try:
                server = real_server_for_checks()
                server.reset_state()  # whatever an earlier check's code changed beyond the data
                url = server.url
            except CourseEnvironmentError as error:
                return self._result("env_problem", str(error))
            except redis.RedisError as error:
                return self._result(
                    "env_problem",
                    f"The private redis-server that runs checks did not answer ({error}); run the check again, or "
                    "set COURSE_CHECK_BACKEND=fake.",
                )
        elif backend != "fake":
            return self._result("env_problem", f"COURSE_CHECK_BACKEND={backend!r} must be fake or real.")

        timeout = min(self.timeout, float(os.environ.get("COURSE_CHECK_TIMEOUT", self.timeout)))
        outcome = run_isolated(TrialTask.of(self, answer, url), timeout)
        if outcome.status == "timeout":
            return self._result(
                "timeout",
                f"Your {name} was still running after {timeout:g} s, so the check stopped it. Look for a "
                "loop that never ends, a blocking command without a timeout (BLPOP with timeout 0 waits "
                "forever), or a long time.sleep.",
                output=outcome.output,
            )
        if outcome.internal:
            return self._result(
                "error",
                "The checker itself failed, which is a bug in the course rather than in your code; please "
                f"report it with this detail: {outcome.message}",
                output=outcome.output,
            )
        return self._result(outcome.status, outcome.message, sent=outcome.sent, output=outcome.output)

    def _arity_problem(self, answer: Any) -> str:
        _, required, total = _required_arity(self.signature)
        try:
            parameters = inspect.signature(answer)
        except (TypeError, ValueError):
            return ""
        for count in {required, total}:
            try:
                parameters.bind(*range(count))
            except TypeError:
                shown = str(parameters)
                return (
                    f"Your function takes {shown} but the exercise calls it as {self.signature.split(' ->')[0]}: "
                    "make its parameters match."
                )
        return ""

    def run_trial(self, answer: Any, url: str | None) -> Outcome:
        """Run the checker on answer against a fresh Redis (fakeredis, or the real server at url)."""
        try:
            server = TrialRedis(url)
        except redis.RedisError as error:
            return Outcome(
                "env_problem",
                f"The checking Redis did not answer ({error}); run the check again, or set COURSE_CHECK_BACKEND=fake.",
            )
        call_target = answer if self.passes_client else (lambda _r, *a, **k: answer(*a, **k))
        kind = AsyncTrial if self.is_async else Trial
        trial = kind(call_target, self.function_name, server, passes_client=self.passes_client)
        trial.learner_file = getattr(getattr(answer, "__code__", None), "co_filename", "")
        status: Status
        try:
            praise = self.checker(trial)
            status, message = "pass", praise or "Every case passed."
        except CheckFailed as failure:
            status, message = "fail", str(failure)
        except LearnerRaised as raised:
            status, message = "error", str(raised)
        except ServerTooOld as too_old:
            status, message = "env_problem", str(too_old)
        except redis.ConnectionError as error:
            status, message = (
                "env_problem",
                f"The checking Redis stopped answering ({error}); run the check again, or set "
                "COURSE_CHECK_BACKEND=fake.",
            )
        except Exception as error:
            return Outcome("error", f"{type(error).__name__}: {error}", internal=traceback.format_exc())
        finally:
            sent = trial.recorder.describe()
            trial.close()
        return Outcome(status, message, sent=sent)

    # -- help ---------------------------------------------------------------------------------------
    def hint(self, level: int | None = None) -> Hint:
        """The next hint (or hint number level); each says how to get the next."""
        total = len(self.hints)
        if level is None:
            level = min(_progress.hints_shown(self.id) + 1, total)
        level = max(1, min(int(level), total))
        _progress.record("hint", self.id, level=level, notebook=self.notebook)
        return Hint(self.id, level, total, self.hints[level - 1])

    def solution(self) -> Solution:
        """Show the reference answer (and record that it was shown)."""
        _progress.record("solution", self.id, notebook=self.notebook)
        return Solution(
            self.id,
            self.reference_source(),
            "Type it in yourself rather than pasting it: you will remember it better. Then run the check.",
        )

    def reference_source(self) -> str:
        """The reference answer's source, its function named as in the exercise cell."""
        source = textwrap.dedent(inspect.getsource(self.reference)).strip()
        return source.replace(f"def {self.reference.__name__}(", f"def {self.function_name}(", 1)

    def __repr__(self) -> str:
        return f"Exercise({self.id!r}: {self.signature})"

    def _repr_html_(self) -> str:
        return (
            "<div style='border-left:6px solid #0969da;padding:6px 10px;background:#0969da0d'>"
            f"<b>✎ Exercise</b> <code>{html.escape(self.id)}</code>: {html.escape(self.title)}<br>"
            f"<code>{html.escape(self.signature)}</code><br>{html.escape(self.task)}</div>"
        )


@dataclass(frozen=True)
class TrialTask:
    """One check as the sandbox runs it: exercise.run_trial(learner_answer, url), in whichever process.

    It carries the learner's source lines too, so that feedback can quote the failing line in a worker
    process, where a notebook cell's source is not on disk.
    """

    exercise: Exercise
    learner_answer: Any
    url: str | None
    learner_file: str = ""
    learner_lines: tuple[str, ...] = ()

    @classmethod
    def of(cls, exercise: Exercise, answer: Any, url: str | None) -> TrialTask:
        """The task for checking answer, with its source lines."""
        filename = getattr(getattr(answer, "__code__", None), "co_filename", "")
        return cls(exercise, answer, url, filename, tuple(linecache.getlines(filename)) if filename else ())

    def __call__(self) -> Outcome:
        return self.exercise.run_trial(
            _with_source(self.learner_answer, self.learner_file, self.learner_lines), self.url
        )


def _renamed(code: CodeType, filename: str) -> CodeType:
    consts = tuple(_renamed(const, filename) if isinstance(const, CodeType) else const for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _with_source(answer: Any, filename: str, lines: tuple[str, ...]) -> Any:
    """answer with its original file name and source lines back (cloudpickle sends code as "<dynamic-code>")."""
    code = getattr(answer, "__code__", None)
    if code is None or not filename or code.co_filename == filename:
        return answer
    answer.__code__ = _renamed(code, filename)
    if lines and not linecache.getlines(filename):
        linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)
    return answer
