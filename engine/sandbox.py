"""The restricted environment in which BPMN/DMN scripts, conditions, timer and `dueIn` expressions,
message payloads, DMN cells and task instructions run.

SpiffWorkflow's default environment is plain exec/eval with full builtins in the server's own process.
Here, every piece of pathway code is

1. compiled by RestrictedPython (sandbox_policy.py): no imports, no names or attributes starting with
   `_`, guarded item access, iteration and writes, a small list of builtins and Carepath's helpers;
2. run in a separate sandbox process (sandbox_child.py, sandbox_pool.py) under the step's deadline and an
   address-space limit the operating system enforces, with only the task data the code names.

A step that hits a bound fails with `SandboxLimit` (the runtime turns it into StepLimitExceeded, rolls
the step back and records an incident). docs/sandbox.md says why a process and not an in-process guard.
"""

from __future__ import annotations

import builtins
from contextvars import ContextVar, Token
from typing import Any, NoReturn

from jinja2 import TemplateError
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine

from . import sandbox_pool
from .clock import current_step_time
from .sandbox_policy import (  # noqa: F401
    SCRIPT_FILENAME,
    ScriptRefused,
    compile_expression,
    compile_script,
    expression_names,
    is_straight_line,
    literal_of,
    script_names,
)
from .scripting import current_effects


class StepBudget:
    """The time a step's pathway code may take, shared by all of it: each call into the sandbox spends what it
    took (sandbox_pool.run). Only the pathway code's own time counts, not the step's reading and writing of the
    database or the engine's bookkeeping: on a busy server those take longer, and a clinician's ordinary step
    must not fail because the machine is loaded; a script that loops still stops at the limit."""

    def __init__(self, seconds: float) -> None:
        self.remaining = seconds


# The budget of the step being run; set by the runtime around the pathway code of each step.
_step_budget: ContextVar[StepBudget | None] = ContextVar("carepath_step_budget", default=None)

# What each bound says to the person whose step stopped, and in the incident an admin sees.
LIMIT_TEXT = {
    "time": "ran past the step's time limit",
    "memory": "used more memory than a step may use",
    "recursion": "recursed too deeply",
    "output": "left more data than a step may store",
    "crash": "stopped its sandbox process (most likely by exhausting its memory)",
}


class SandboxLimit(Exception):
    """Pathway code hit one of the step's bounds; `kind` is a key of LIMIT_TEXT."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"a script, condition or expression {LIMIT_TEXT[kind]}")
        self.kind = kind


class ScriptError(Exception):
    """An error raised by pathway code that is not one of Python's own exceptions (or must not be
    raised here as itself: SystemExit, StopIteration …)."""


def limit_of(exc: BaseException | None) -> SandboxLimit | None:
    """The SandboxLimit behind an exception SpiffWorkflow wrapped (it chains the original), if any."""
    for _ in range(20):
        if exc is None:
            return None
        if isinstance(exc, SandboxLimit):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


_NOT_REBUILT = {"StopIteration", "StopAsyncIteration", "GeneratorExit"}


def _rebuild(name: str, args: tuple[Any, ...], line: int | None) -> Exception:
    """The sandbox's error as an exception of the same type here (only args cross the pipe, as text:
    SpiffWorkflow's error report concatenates the first one)."""
    text = tuple(str(a) for a in args)
    cls = ScriptRefused if name == "ScriptRefused" else getattr(builtins, name, None)
    exc: Exception
    try:
        if isinstance(cls, type) and issubclass(cls, Exception) and name not in _NOT_REBUILT:
            exc = cls(*text)
        else:
            exc = ScriptError(f"{name}: {', '.join(text)}" if text else name)
    except Exception:  # noqa: BLE001 - an exception type whose constructor wants other arguments
        exc = ScriptError(f"{name}: {', '.join(text)}")
    if line:
        exc.add_note(f"line {line} of the script")
    return exc


def _data_item(ob: Any, key: Any) -> Any:
    """`ob[key]` for straight-line expressions run here: a lookup that hands back data, never something to
    call (so the expression can call nothing else), and no slice (a slice copies)."""
    if isinstance(key, slice):
        raise TypeError("slices are not available here")
    value = ob[key]
    if callable(value):
        raise TypeError("not data")
    return value


def _straight_line_globals(
    names: frozenset[str], data: dict[str, Any], external: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The globals for running a straight-line expression here: every name it reads must be present,
    non-callable task data (a builtin or a helper sends it to the sandbox process). None otherwise."""
    glb: dict[str, Any] = {"__builtins__": {}}
    for name in names - {"_getitem_"}:
        if name in data:
            value = data[name]
        elif external and name in external:
            value = external[name]
        else:
            return None
        if callable(value):
            return None
        glb[name] = value
    glb["_getitem_"] = _data_item
    return glb


# SpiffWorkflow has no types: its script engine classes are Any to mypy, hence the narrow ignores on subclassing.
class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """SpiffWorkflow's script environment for Carepath: scripts, templates and any expression that calls
    or computes run in the sandbox process; constants and straight-line tests of task data run here."""

    def __init__(self, time_limit: float = 2.0, memory_mb: int = 256) -> None:
        super().__init__({})
        self.time_limit = time_limit
        self.memory_mb = memory_mb

    def _run(
        self, op: str, source: str, data: dict[str, Any], external: dict[str, Any] | None, names: frozenset[str] | None
    ) -> tuple[dict[str, Any], Any]:
        # Only the names the code spells out cross over (all of them for a template, which has no names).
        ctx = dict(data) if names is None else {k: data[k] for k in names if k in data}
        ext = {k: external[k] for k in names if k in external} if external and names is not None else {}
        effects = current_effects()
        budget = _step_budget.get() or StepBudget(self.time_limit)  # outside a step: one call, one limit
        # `case_status()` reads the case in this process's transaction: code that calls it gets the answer
        # read here, handed over as data (the sandbox process has no database).
        status = None
        if effects is not None and effects.case_status is not None and "case_status" in (names or source):
            status = effects.case_status()
        try:
            answer = sandbox_pool.run(
                (op, source, ctx, ext, current_step_time(), effects is not None, status), budget, self.memory_mb
            )
        except sandbox_pool.ChildStopped as stopped:
            raise SandboxLimit(stopped.kind) from None
        status = answer[0]
        if status == "ok":
            _, value, found = answer
            if found and effects is not None:
                scores, risk_level, close_reason = found
                effects.scores.extend(scores)
                effects.risk_level = risk_level or effects.risk_level
                effects.close_reason = close_reason or effects.close_reason
            return ctx, value
        if status == "limit":
            raise SandboxLimit(answer[1])
        if status == "template_error":
            raise TemplateError(f"the template could not be rendered ({answer[1]})")
        if status == "unsavable":
            raise ValueError(
                "the pathway code produced a value that cannot be saved (only text, numbers, "
                "true/false, lists and objects can be)"
            )
        raise _rebuild(*answer[1:])

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        # Two kinds of expression need no sandbox process, which saves a round trip per gateway condition,
        # DMN cell and literal `dueIn` (sandbox_policy.py says why they are safe to run here).
        is_literal, value = literal_of(expression)
        if is_literal:  # "P7D", 30, "high": read from the compiled code, nothing runs
            return value
        names = expression_names(expression)
        if is_straight_line(expression):
            glb = _straight_line_globals(names, context, external_context)
            if glb is not None:
                return eval(compile_expression(expression), glb)
        return self._run("eval", expression, context, external_context, names)[1]

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        _sent, (left, deleted) = self._run("exec", script, context, external_context, script_names(script))
        # What the script deleted goes; what it assigned is written back; other task data is untouched.
        for name in deleted:
            context.pop(name, None)
        context.update(left)
        return True

    def render(self, template: str, data: dict[str, Any]) -> str:
        """Task instructions (a Jinja template) rendered in Jinja's sandbox inside the sandbox process."""
        return str(self._run("render", template, data, None, None)[1])

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> NoReturn:
        raise ScriptRefused("service tasks are not available in Carepath pathways")


class StepScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """The script engine attached to every workflow after it is built or loaded."""

    environment: RestrictedEnvironment  # set by PythonScriptEngine.__init__ to the one given below

    def __init__(self, time_limit: float, memory_mb: int = 256) -> None:
        super().__init__(environment=RestrictedEnvironment(time_limit, memory_mb))

    def validate(self, expression: str) -> None:
        # DMN cells go through validate(); judge them with the same compiler that will run them.
        try:
            compile_expression(expression)
        except ScriptRefused as exc:
            raise SyntaxError(str(exc)) from None

    def render(self, template: str, data: dict[str, Any]) -> str:
        return self.environment.render(template, data)


def set_step_budget(budget: StepBudget | None) -> Token[StepBudget | None]:
    return _step_budget.set(budget)


def reset_step_budget(token: Token[StepBudget | None]) -> None:
    _step_budget.reset(token)


__all__ = [
    "SCRIPT_FILENAME",
    "LIMIT_TEXT",
    "RestrictedEnvironment",
    "SandboxLimit",
    "ScriptError",
    "ScriptRefused",
    "StepBudget",
    "StepScriptEngine",
    "compile_expression",
    "compile_script",
    "limit_of",
    "reset_step_budget",
    "set_step_budget",
]
