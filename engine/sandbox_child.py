"""The sandbox process: runs pathway code for a web or worker process, under operating-system limits.

Started by sandbox_pool.py as `python -I -c ...` with two pipes and nothing else: no database
connection, no secrets in its environment, stdout and stderr sent to /dev/null. It serves one request
at a time (a script, an expression or a task-instructions template, with the task data it names) and
answers with the result, the case effects the code asked for, or why it stopped:

- time: SIGALRM at the step's deadline stops Python-level loops here and the process lives on; a loop
  inside one C call (`sum(range(10**10))`) ignores signals, so the parent kills this process a moment
  later, and RLIMIT_CPU stops it even if the parent is gone;
- memory: RLIMIT_AS caps the address space, so `'x' * 10**9` or `[0] * 10**9` fail with MemoryError
  at once instead of taking the server's memory;
- recursion: a low recursion limit, and a crash (a C stack overflow) only ends this process.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import resource
import signal
import struct
import sys
from types import FrameType
from typing import Any

from jinja2 import TemplateError

from . import scripting
from .clock import step_time
from .sandbox_policy import BASE_GLOBALS, SCRIPT_FILENAME, ScriptRefused, compile_expression, compile_script

HEADER = struct.Struct("!Q")
# Pickle of what a step may keep: task data is stored as JSON on the instance, so a script that leaves
# megabytes behind is broken (or hostile), and the parent must not have to unpickle or store it.
MAX_REPLY_BYTES = 4 * 1024 * 1024
RECURSION_LIMIT = 300
# After the first SIGALRM, keep interrupting: a script that catches the first one gets another.
ALARM_REPEAT = 0.05


class StepTimeout(BaseException):
    """Raised by SIGALRM at the deadline. BaseException, so `except Exception` in a script lets it by."""


_armed = False


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    # Only while a request runs: an alarm landing as the request ends must not hit the pipe code.
    if _armed:
        raise StepTimeout()


def _vm_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_resources(memory_mb: int) -> None:
    """Set once, after every import: what this process may grow to and may not do at all."""
    try:
        base = _vm_bytes()
    except OSError:  # no /proc: budget for a generous interpreter instead
        base = 256 * 1024 * 1024
    address_space = base + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Defence in depth should RestrictedPython ever be escaped: no new files grow, no processes start.
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    except (ValueError, OSError):
        pass
    sys.setrecursionlimit(RECURSION_LIMIT)


def _cpu_backstop(seconds: float) -> None:
    """RLIMIT_CPU a little past this request's budget: the kernel stops a C loop even without the parent."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + seconds + 2)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _arm(seconds: float) -> None:
    global _armed
    _cpu_backstop(seconds)
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001), ALARM_REPEAT)


def _disarm() -> None:
    global _armed
    _armed = False
    signal.setitimer(signal.ITIMER_REAL, 0, 0)


# ---------- the three kinds of request ----------


def _globals(ctx: dict[str, Any], ext: dict[str, Any]) -> dict[str, Any]:
    glb = dict(BASE_GLOBALS)
    glb.update(scripting.SCRIPT_HELPERS)
    glb.update(ext)
    glb.update(ctx)
    return glb


def _evaluate(source: str, ctx: dict[str, Any], ext: dict[str, Any]) -> Any:
    return eval(compile_expression(source), _globals(ctx, ext))


def _execute(source: str, ctx: dict[str, Any], ext: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Run the script; return the data it leaves (helpers, functions and sandbox names are not data) and
    the names of the task data it deleted."""
    glb = _globals(ctx, ext)
    exec(compile_script(source), glb)
    reserved = set(BASE_GLOBALS) | set(scripting.SCRIPT_HELPERS) | set(ext)
    left = {
        name: value
        for name, value in glb.items()
        if name not in reserved and not name.startswith("_") and not callable(value)
    }
    return left, [name for name in ctx if name not in glb]


_TEMPLATES = None


def _render(source: str, ctx: dict[str, Any], _ext: dict[str, Any]) -> str:
    """Task instructions: a Jinja template over the task data, in Jinja's own sandbox, in this process."""
    global _TEMPLATES
    if _TEMPLATES is None:
        from jinja2 import ChainableUndefined
        from jinja2.sandbox import SandboxedEnvironment

        _TEMPLATES = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)
    return _TEMPLATES.from_string(source).render(**ctx)


OPERATIONS = {"eval": _evaluate, "exec": _execute, "render": _render}


def _safe_args(exc: BaseException) -> tuple[Any, ...]:
    """An exception's arguments, if they are plain values (a KeyError's key, a message)."""
    return tuple(a if isinstance(a, (int, float, bool, type(None))) else str(a)[:500] for a in exc.args[:3])


def _error_line(exc: BaseException) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def serve(request: tuple[Any, ...]) -> tuple[bytes, bool]:
    """One request -> (pickled reply, whether this process must end after replying)."""
    op, source, ctx, ext, step_instant, effects_on, status, seconds = request
    try:
        _arm(seconds)
        try:
            effects, token = scripting.begin_effects() if effects_on else (None, None)
            if effects is not None and status is not None:
                effects.case_status = lambda: status  # read by the server in the step's transaction
            try:
                with step_time(step_instant) if step_instant else contextlib.nullcontext():
                    value = OPERATIONS[op](source, ctx, ext)
            finally:
                if token is not None:
                    scripting.end_effects(token)
            found = (effects.scores, effects.risk_level, effects.close_reason) if effects else None
            try:
                reply = pickle.dumps(("ok", value, found), protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError):
                reply = pickle.dumps(("unsavable",))
        finally:
            _disarm()
        if len(reply) > MAX_REPLY_BYTES:
            return pickle.dumps(("limit", "output")), False
        return reply, False
    except StepTimeout:
        return pickle.dumps(("limit", "time")), False
    except MemoryError:
        # The heap may be in a poor state after this: answer, then let the parent start a fresh process.
        return pickle.dumps(("limit", "memory")), True
    except RecursionError:
        return pickle.dumps(("limit", "recursion")), False
    except TemplateError as exc:
        return pickle.dumps(("template_error", type(exc).__name__)), False
    except ScriptRefused as exc:
        return pickle.dumps(("error", "ScriptRefused", (str(exc)[:500],), None)), False
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt from a script included
        return pickle.dumps(("error", type(exc).__name__, _safe_args(exc), _error_line(exc))), False


# ---------- the pipe ----------


def _read_exact(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main(memory_mb: int) -> None:
    # Keep the request and reply pipes on private descriptors; 0, 1 and 2 become /dev/null so that
    # nothing a script or the interpreter prints can reach a log (it could quote a client's data).
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    # Import everything a request needs before the limits apply (imports open files and map memory).
    import jinja2.sandbox  # noqa: F401

    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the server, which stops us
    _limit_resources(memory_mb)
    _write_all(wfd, b"R")  # ready
    while True:
        try:
            (size,) = HEADER.unpack(_read_exact(rfd, HEADER.size))
            request = pickle.loads(_read_exact(rfd, size))
        except EOFError:
            return  # the parent closed the pipe or exited
        try:
            reply, retire = serve(request)
        except StepTimeout:  # the alarm fired in the instant between the request's end and the disarm
            reply, retire = pickle.dumps(("limit", "time")), False
        finally:
            _disarm()
        _write_all(wfd, HEADER.pack(len(reply)) + reply)
        if retire:
            return
