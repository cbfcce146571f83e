"""Time and memory budgets for the commands that solve, and the shared option checks.

Why a module of its own: an explanation of a large case spends most of its time in
Python (building the proof graphs and rendering them), not in clingo's solve call,
so a limit on the solve alone does not bound a command. A :class:`Deadline` is
handed to the proof builders, which check it in their loops (time on every check,
resident memory every few thousand checks); on the CLI, :func:`budgeted` also arms
a wall-clock alarm (for loops that do not check) and caps the address space (so
growth inside C code — clingo grounding — fails as a clean ``MemoryError`` instead
of exhausting the machine). Exceeding either budget raises :class:`BudgetExceeded`,
an :class:`~exportkb.errors.ExportKBError`: one message saying which budget, and how
to raise it, and exit code 2.

No global state: the deadline is an object passed to whoever must honour it; the
alarm and the address-space cap are installed for one command and restored after.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import click

from .errors import ExportKBError

DEFAULT_TIME_LIMIT = 60.0  # seconds: a single-case command on a laptop
DEFAULT_RUN_TIME_LIMIT = 600.0  # seconds: a command over many cases (test, whatif, compare, query)
DEFAULT_MEMORY_LIMIT = 4096  # MB of resident memory
#: Address space beyond the memory limit that the command may reserve without using
#: (shared libraries, thread stacks, allocator arenas): the cap on the address space
#: is a backstop for growth that the resident-memory check cannot see (C code).
ADDRESS_SPACE_HEADROOM_MB = 1024
MEMORY_CHECK_EVERY = 2048  # checks between two readings of the resident memory


class BudgetExceeded(ExportKBError):
    """A command ran past its time or memory budget (exit code 2, never a traceback)."""


def time_message(seconds: float, what: str = "the command") -> str:
    return (f"{what} exceeded the time limit of {seconds:g} s "
            f"(fix: raise it with --time-limit S, e.g. --time-limit {max(2 * seconds, 1):g}, or give a smaller case)")


def memory_message(mb: int, what: str = "the command") -> str:
    return (f"{what} exceeded the memory limit of {mb} MB "
            f"(fix: raise it with --memory-limit MB, e.g. --memory-limit {2 * mb}, or give a smaller case)")


def resident_mb() -> float | None:
    """The process's current resident memory in MB (Linux /proc), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _address_space_mb() -> float | None:
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Deadline:
    """A time and memory budget, checked cooperatively by long-running loops.

    ``seconds`` None: no time limit; ``memory_mb`` None: no memory limit.
    """

    seconds: float | None = DEFAULT_TIME_LIMIT
    memory_mb: int | None = DEFAULT_MEMORY_LIMIT
    what: str = "the command"

    def __post_init__(self) -> None:
        self.start = time.monotonic()
        self.end = None if self.seconds is None else self.start + self.seconds
        self._count = 0

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a time limit."""
        return None if self.end is None else max(0.0, self.end - time.monotonic())

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` if the time is up or the resident memory is over the limit."""
        if self.end is not None and time.monotonic() > self.end:
            raise BudgetExceeded(time_message(self.seconds or 0, self.what))
        self._count += 1
        if self.memory_mb is not None and self._count % MEMORY_CHECK_EVERY == 0:
            rss = resident_mb()
            if rss is not None and rss > self.memory_mb:
                raise BudgetExceeded(memory_message(self.memory_mb, self.what))


# ---------------------------------------------------------------- click options
def _number_text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def check_time_limit(ctx: click.Context | None, param: click.Parameter | None, value: float | None) -> float | None:
    """``--time-limit``: a finite number of seconds greater than 0 (0, negative, NaN, inf are refused)."""
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(f"{_number_text(value)}: give a finite number of seconds greater than 0 "
                                 "(fix: e.g. --time-limit 60)")
    return value


def check_memory_limit(ctx: click.Context | None, param: click.Parameter | None, value: int | None) -> int | None:
    """``--memory-limit``: megabytes, at least 64 (the interpreter and the KB need that much)."""
    if value is None:
        return None
    if value < 64:
        raise click.BadParameter(f"{value}: give at least 64 MB (fix: e.g. --memory-limit {DEFAULT_MEMORY_LIMIT})")
    return value


def time_limit_option(default: float = DEFAULT_TIME_LIMIT, help: str = "Seconds the command may run.") -> Callable:
    """The ``--time-limit S`` option, validated the same way by every command."""
    return click.option("--time-limit", type=float, default=default, show_default=True, callback=check_time_limit,
                        metavar="S", help=help + " Over it: exit 2 with a message.")


def memory_limit_option(default: int = DEFAULT_MEMORY_LIMIT) -> Callable:
    """The ``--memory-limit MB`` option."""
    return click.option("--memory-limit", type=int, default=default, show_default=True, callback=check_memory_limit,
                        metavar="MB", help="Resident memory the command may use, in MB. Over it: exit 2 with a message.")


def cap_jobs(jobs: int, cpus: int | None = None) -> int:
    """``--jobs``: at least 1, at most the CPU count (capped with a one-line notice on stderr)."""
    if jobs < 1:
        raise ExportKBError(f"--jobs {jobs}: give at least 1 worker process (fix: e.g. --jobs 1, "
                            f"at most the {cpus or os.cpu_count() or 1} CPU(s) of this machine)")
    cpus = cpus or os.cpu_count() or 1
    if jobs > cpus:
        click.echo(f"note: --jobs {jobs} capped at {cpus}, the number of CPUs", err=True)
        return cpus
    return jobs


# ------------------------------------------------------------ enforcing on the CLI
@contextlib.contextmanager
def enforced(deadline: Deadline, grace: float = 1.0) -> Iterator[Deadline]:
    """Run a block under *deadline*: a wall-clock alarm and an address-space cap, both undone after.

    The alarm fires *grace* seconds after the deadline (the cooperative checks come first
    and say more); it raises :class:`BudgetExceeded` in the main thread the next time it
    runs Python code. The address-space cap is the current size plus the memory limit plus
    headroom, so the command can never take the machine's memory. Either part is skipped
    where the platform lacks it (no SIGALRM, not the main thread, no RLIMIT_AS).
    """
    with contextlib.ExitStack() as stack:
        if deadline.seconds is not None:
            stack.enter_context(_alarm(deadline, grace))
        if deadline.memory_mb is not None:
            stack.enter_context(_address_space_cap(deadline.memory_mb))
        try:
            yield deadline
        except MemoryError:
            raise BudgetExceeded(memory_message(deadline.memory_mb or 0, deadline.what)) from None


@contextlib.contextmanager
def _alarm(deadline: Deadline, grace: float) -> Iterator[None]:
    import threading
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise BudgetExceeded(time_message(deadline.seconds or 0, deadline.what))

    old = signal.signal(signal.SIGALRM, on_alarm)
    # Repeats every *grace* seconds: work that catches errors per case (and so swallows one alarm)
    # is stopped again at its next case.
    signal.setitimer(signal.ITIMER_REAL, (deadline.remaining() or 0) + grace, grace)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def _address_space_cap(memory_mb: int) -> Iterator[None]:
    try:
        import resource
    except ImportError:  # not POSIX
        yield
        return
    current = _address_space_mb()
    if current is None or not hasattr(resource, "RLIMIT_AS"):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = int((current + memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 2**20)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        yield  # already tighter
        return
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def budgeted(what: str, whole_command_time: bool = True,
             pass_deadline: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a click command that takes ``time_limit`` and ``memory_limit``: run it under them.

    With *whole_command_time* the time limit bounds the whole command (alarm and cooperative
    checks) and the command receives a ``deadline`` keyword (a :class:`Deadline`) to pass to
    the work instead of ``time_limit``. Without it the command keeps ``time_limit`` (a limit
    per chunk of solving, enforced by the solver) and only the memory limit is installed here.
    *pass_deadline* False: the command's work has no loop to check the deadline in; the alarm
    alone bounds it.
    """
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, memory_limit: int | None, **kwargs: Any) -> Any:
            if whole_command_time:
                deadline = Deadline(kwargs.pop("time_limit"), memory_limit, what)
                if pass_deadline:
                    kwargs["deadline"] = deadline
            else:
                deadline = Deadline(None, memory_limit, what)
            with enforced(deadline):
                return fn(*args, **kwargs)
        return run
    return wrap
