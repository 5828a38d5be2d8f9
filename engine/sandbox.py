"""The restricted environment in which BPMN/DMN scripts, conditions and timer expressions run.

SpiffWorkflow's default environment is plain exec/eval with full builtins: an uploaded diagram could
call `__import__('os').system(...)`. Here every script and expression is compiled by RestrictedPython
(no imports, no names or attributes starting with `_`, guarded item access, iteration and writes),
runs with a small list of builtins and Carepath's helpers (scripting.py), and is stopped when the
step it belongs to runs past its time limit.
"""
from __future__ import annotations

import functools
import operator
import sys
import time
from contextvars import ContextVar
from typing import Any, Callable

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence,
                                     safe_builtins, safer_getattr)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine

SCRIPT_FILENAME = "<pathway script>"

# The step's deadline (time.monotonic()); set by the runtime around each engine step.
_step_deadline: ContextVar[float | None] = ContextVar("carepath_step_deadline", default=None)


class ScriptRefused(Exception):
    """A script or expression uses something the sandbox does not allow (caught at compile time).

    Not a SyntaxError on purpose: SpiffWorkflow's error reporting crashes on RestrictedPython's
    SyntaxErrors, which carry no line number."""


class StepTimeLimitExceeded(Exception):
    """A script or expression ran past the step's time limit."""


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "|=": operator.ior,
    "&=": operator.iand, "^=": operator.ixor,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise ScriptRefused(f"operator {op} is not allowed in pathway scripts") from None


def _builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    for name in ("sum", "min", "max", "any", "all", "dict", "list", "set", "enumerate", "reversed",
                 "map", "filter"):
        allowed[name] = __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    return allowed


_BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": _builtins(),
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_print_": PrintCollector,
    "_apply_": lambda f, *a, **kw: f(*a, **kw),
}


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str):
    result = compile_restricted_eval(source.strip(), filename=SCRIPT_FILENAME)
    if result.errors:
        raise ScriptRefused("; ".join(result.errors))
    return result.code


@functools.lru_cache(maxsize=4096)
def compile_script(source: str):
    result = compile_restricted_exec(source, filename=SCRIPT_FILENAME)
    if result.errors:
        raise ScriptRefused("; ".join(result.errors))
    return result.code


def _run_limited(fn: Callable[[], Any], fallback_limit: float) -> Any:
    """Run `fn`, tracing only the lines of pathway scripts, and stop it at the step's deadline.

    A line tracer works in any thread (unlike SIGALRM) and costs nothing for SpiffWorkflow's own
    frames, which are not traced. It cannot interrupt one long C call (a huge `**`), only Python lines."""
    deadline = _step_deadline.get() or (time.monotonic() + fallback_limit)

    def on_line(frame, event, arg):
        if time.monotonic() > deadline:
            raise StepTimeLimitExceeded("the pathway step ran past its time limit")
        return on_line

    def on_call(frame, event, arg):
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            return on_line(frame, event, arg)
        return None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return fn()
    finally:
        sys.settrace(previous)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that evaluates everything through RestrictedPython."""

    def __init__(self, helpers: dict[str, Callable], time_limit: float = 2.0):
        super().__init__({})
        self.helpers = helpers
        self.time_limit = time_limit

    def _globals(self, context: dict, external_context: dict | None) -> dict:
        glb = dict(_BASE_GLOBALS)
        glb.update(self.helpers)
        glb.update(external_context or {})
        glb.update(context)
        return glb

    def evaluate(self, expression, context, external_context=None):
        code = compile_expression(expression)
        glb = self._globals(context, external_context)
        return _run_limited(lambda: eval(code, glb), self.time_limit)

    def execute(self, script, context, external_context=None):
        code = compile_script(script)
        glb = self._globals(context, external_context)
        reserved = set(_BASE_GLOBALS) | set(self.helpers) | set(external_context or {})
        _run_limited(lambda: exec(code, glb), self.time_limit)
        # Write back what the script assigned; drop what it deleted. Helpers, functions and the
        # sandbox's own names never become task data.
        for name in list(context):
            if name not in glb:
                del context[name]
        for name, value in glb.items():
            if name in reserved or name.startswith("_") or callable(value):
                continue
            context[name] = value
        return True

    def call_service(self, context, **kwargs):
        raise ScriptRefused("service tasks are not available in Carepath pathways")


class StepScriptEngine(PythonScriptEngine):
    """The script engine attached to every workflow after it is built or loaded."""

    def __init__(self, helpers: dict[str, Callable], time_limit: float):
        super().__init__(environment=RestrictedEnvironment(helpers, time_limit))

    def validate(self, expression):
        # DMN cells go through validate(); judge them with the same compiler that will run them.
        try:
            compile_expression(expression)
        except ScriptRefused as exc:
            raise SyntaxError(str(exc)) from None


def set_step_deadline(deadline: float | None):
    return _step_deadline.set(deadline)


def reset_step_deadline(token) -> None:
    _step_deadline.reset(token)
