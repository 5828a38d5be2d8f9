"""What pathway code may do: the RestrictedPython compiler and the globals scripts see.

This is the capability half of the sandbox (what a script can reach). The resource half (how long
it may run, how much memory it may take) is the separate process in sandbox_child.py. Both the web
and worker process (to check diagrams and to find the names an expression reads) and the sandbox
process (to run it) compile through here, so they always agree on what is allowed.
"""

from __future__ import annotations

import builtins
import dis
import functools
import operator
from collections.abc import Callable
from types import CodeType
from typing import Any

from RestrictedPython.compile import CompileResult, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector

SCRIPT_FILENAME = "<pathway script>"


class ScriptRefused(Exception):
    """A script or expression uses something the sandbox does not allow (caught at compile time).

    Not a SyntaxError on purpose: SpiffWorkflow's error reporting crashes on RestrictedPython's
    SyntaxErrors, which carry no line number."""


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise ScriptRefused(f"operator {op} is not allowed in pathway scripts") from None


def _builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    for name in ("sum", "min", "max", "any", "all", "dict", "list", "set", "enumerate", "reversed", "map", "filter"):
        allowed[name] = getattr(builtins, name)
    return allowed


BASE_GLOBALS: dict[str, Any] = {
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


def _compile(compiler: Callable[..., CompileResult], source: str) -> CodeType:
    try:
        result = compiler(source, filename=SCRIPT_FILENAME)
    except (RecursionError, MemoryError, ValueError, OverflowError):
        # Absurdly nested or oversized source (a crafted diagram): refuse it like any other bad code.
        raise ScriptRefused("the code is too deeply nested or too large to compile") from None
    if result.errors:
        raise ScriptRefused("; ".join(result.errors))
    if result.code is None:  # RestrictedPython reports no code only with errors
        raise ScriptRefused("the code did not compile")
    return result.code


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    return _compile(compile_restricted_eval, source.strip())


@functools.lru_cache(maxsize=4096)
def compile_script(source: str) -> CodeType:
    return _compile(compile_restricted_exec, source)


def _names(code: CodeType) -> frozenset[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):  # comprehensions, lambdas and functions defined in the script
            names |= _names(const)
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def expression_names(source: str) -> frozenset[str]:
    """Every global name the expression can read. Restricted code has no `globals()`, `vars()` or
    `eval`, so it can reach task data only through names it spells out: only those are sent to the
    sandbox process (a DMN cell reading `phq9_total` does not ship a whole needs assessment)."""
    return _names(compile_expression(source))


@functools.lru_cache(maxsize=4096)
def script_names(source: str) -> frozenset[str]:
    """Every global name the script can read, assign or delete (see `expression_names`)."""
    return _names(compile_script(source))


_NO_OPS = {"RESUME", "NOP", "CACHE", "EXTENDED_ARG"}


@functools.lru_cache(maxsize=4096)
def literal_of(source: str) -> tuple[bool, Any]:
    """(True, value) when the expression compiles to one constant (`"P7D"`, `30`, `"high"`: most `dueIn`
    and timer expressions and DMN output cells), else (False, None). Taking a constant from the compiled
    code runs nothing, so the sandbox process is not needed for it; CPython folds only small constants."""
    ops = [i for i in dis.get_instructions(compile_expression(source)) if i.opname not in _NO_OPS]
    if len(ops) == 2 and ops[0].opname == "LOAD_CONST" and ops[1].opname == "RETURN_VALUE":
        return True, ops[0].argval
    if len(ops) == 1 and ops[0].opname == "RETURN_CONST":  # Python 3.12+
        return True, ops[0].argval
    return False, None


# The opcodes of a straight-line expression (Python 3.11 to 3.13 names): it loads task data and constants,
# subscripts them through `_getitem_`, compares, tests and branches forward. Each of these takes time
# bounded by the data it is given; nothing loops, computes, builds or allocates. See `is_straight_line`.
_STRAIGHT_OPS = frozenset(
    {
        "RESUME",
        "NOP",
        "CACHE",
        "EXTENDED_ARG",
        "LOAD_NAME",
        "LOAD_CONST",
        "PUSH_NULL",
        "PRECALL",
        "CALL",
        "COMPARE_OP",
        "IS_OP",
        "CONTAINS_OP",
        "UNARY_NOT",
        "TO_BOOL",
        "COPY",
        "SWAP",
        "POP_TOP",
        "RETURN_VALUE",
        "RETURN_CONST",
        "JUMP_FORWARD",
        "JUMP_IF_FALSE_OR_POP",
        "JUMP_IF_TRUE_OR_POP",
        "POP_JUMP_FORWARD_IF_FALSE",
        "POP_JUMP_FORWARD_IF_TRUE",
        "POP_JUMP_FORWARD_IF_NONE",
        "POP_JUMP_FORWARD_IF_NOT_NONE",
        # 3.12+: these jump forward only (backward jumps are JUMP_BACKWARD, not listed)
        "POP_JUMP_IF_FALSE",
        "POP_JUMP_IF_TRUE",
        "POP_JUMP_IF_NONE",
        "POP_JUMP_IF_NOT_NONE",
    }
)


@functools.lru_cache(maxsize=4096)
def is_straight_line(source: str) -> bool:
    """Whether the expression is a straight-line test of task data, like most gateway conditions and DMN
    cells: `asq_result == "acute_positive"`, `10 <= phq9_total <= 19`, `not signoff["approved"]`.

    Such an expression may be evaluated in the server instead of the sandbox process (sandbox.py), on two
    conditions checked there: every name it loads is task data that is not callable, and the only thing
    it can call is a subscript that returns data. It then runs no loop and no computation, only loads,
    lookups and comparisons, each bounded by the size of data the step already holds."""
    code = compile_expression(source)
    if any(isinstance(const, CodeType) for const in code.co_consts):  # a lambda or a comprehension
        return False
    return all(i.opname in _STRAIGHT_OPS for i in dis.get_instructions(code))
