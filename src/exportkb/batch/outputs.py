"""Output files that are never lost, half-written or interleaved, and CSV cells a spreadsheet cannot run.

Why this module exists: an output file is often the only record of a long run, and it used to be
opened (and truncated) before the input was even read — ``batch x.jsonl --out x.jsonl`` emptied
its own input, a killed run left a short file that looked complete, and two runs writing the same
file mixed their lines. The rules here, shared by `exportkb batch`, `whatif --csv`, `compare --csv`:

* **Refuse before touching anything** (:func:`check_output`): an output that is one of the
  inputs (or the same file as another output), an output path that is a symbolic link or a
  directory, or whose directory does not exist, is refused with a message and the fix.
* **Write a temporary file, rename on success** (:class:`AtomicFile`): results go to
  ``.NAME.tmp-PID`` in the output's own directory (same file system, so the rename is atomic);
  only a run that finished renames it over ``NAME``. A run that fails, is interrupted (SIGINT,
  SIGTERM) or hits a full disk removes its temporary file and leaves the previous ``NAME``
  unchanged. A run killed with SIGKILL cannot clean up: it leaves only the clearly named
  temporary file, which the next run writing the same output removes once it holds the lock.
* **One writer per output** (:class:`OutputLock`): an exclusive ``flock`` on ``.NAME.lock``,
  held from before the temporary file is created until after the rename. A second run writing
  the same output is refused at once (it does not wait: a wait could be forever). The kernel
  drops the lock when its process dies, however it dies, so a stale lock file never blocks.

CSV injection (OWASP, "CSV Injection"): a cell that starts with ``= + - @``, a tab or a carriage
return is read as a formula by spreadsheet programs (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``).
:func:`neutralise` prefixes such a cell with a single quote ``'`` and the writers quote it, so it
shows as text. A cell that is entirely a plain decimal number (``-12``, ``+3.5``, ``-1e5``:
:data:`NUMBER`) is left as it is — a spreadsheet reads it as that number and nothing else, and
negative figures stay numbers. Typed values (``int``, ``bool``, ``None``) are never changed.
"""
from __future__ import annotations

import csv
import errno
import io
import os
import re
import signal
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

from ..errors import ExportKBError

try:  # POSIX; elsewhere outputs are still atomic, but two runs are not kept apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class RunFailed(ExportKBError):
    """The run could not finish (an output could not be written, a worker died): exit code 3.

    Not bad input, so not exit code 2: the same command may succeed once the cause is gone.
    """


# --------------------------------------------------------------------------- refusal
def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.abspath(a) == os.path.abspath(b)


def check_output(path: Path, option: str, inputs: Sequence[Path] = (), others: Sequence[tuple[Path, str]] = (),
                 input_suffixes: Sequence[str] = ()) -> None:
    """Refuse an output path that would destroy an input, follow a link, or cannot be created.

    ``inputs``: files (or folders) the run reads; for a folder, an output inside it whose suffix is
    in ``input_suffixes`` would be read as an input and is refused too. ``others``: the run's other
    outputs, as (path, option), which must be different files.
    """
    for src in inputs:
        if _same_file(path, src):
            raise ExportKBError(f"{option} {path}: is the input file; writing it would destroy the input "
                                f"(fix: write the results to another file)")
        if src.is_dir() and path.suffix.lower() in input_suffixes:
            try:
                Path(os.path.abspath(path)).relative_to(os.path.abspath(src))
            except ValueError:
                continue
            raise ExportKBError(f"{option} {path}: is inside the input folder {src} and would be read as a case "
                                f"(fix: write the results outside the folder, or use another suffix)")
    for other, other_option in others:
        if _same_file(path, other):
            raise ExportKBError(f"{option} {path}: is also the {other_option} file "
                                f"(fix: give {option} and {other_option} different files)")
    if path.is_symlink():
        raise ExportKBError(f"{option} {path}: is a symbolic link; exportkb does not write through links "
                            f"(fix: give the link's target, or remove the link)")
    if path.is_dir():
        raise ExportKBError(f"{option} {path}: is a directory (fix: give a file name)")
    parent = path.parent
    if not parent.is_dir():
        raise ExportKBError(f"{option} {path}: the directory {parent} does not exist (fix: create it first)")


# --------------------------------------------------------------------------- lock
class OutputLock:
    """An exclusive, non-blocking ``flock`` on ``.NAME.lock`` next to the output ``NAME``.

    The lock file is removed on release. Removing a lock file is safe only if a run that
    opened the old file before the removal notices; so after locking, the run checks that
    the path still names the file it locked, and retries if not.
    """

    def __init__(self, path: Path, option: str):
        self.path = path.parent / f".{path.name}.lock"
        self.target, self.option = path, option
        self.fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:  # pragma: no cover - no flock on this platform
            return
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        while True:
            try:
                fd = os.open(self.path, flags, 0o644)
            except OSError as exc:
                raise ExportKBError(f"{self.option} {self.target}: cannot create the lock file {self.path}: "
                                    f"{exc.strerror} (fix: check that the directory is writable)") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise ExportKBError(f"{self.option} {self.target}: another run is writing this file "
                                        f"(lock {self.path} is held) (fix: wait for it to finish, "
                                        f"or write to another file)") from None
                raise
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self.fd = fd
                return
            os.close(fd)  # the previous holder removed it between our open and our lock: retry

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


# --------------------------------------------------------------------------- atomic file
def temp_name(path: Path, pid: int | None = None) -> Path:
    """The temporary file an unfinished run writes instead of ``path``: ``.NAME.tmp-PID``."""
    return path.parent / f".{path.name}.tmp-{os.getpid() if pid is None else pid}"


class AtomicFile:
    """``path``, written as a temporary file in the same directory and renamed over it by :meth:`commit`."""

    def __init__(self, path: Path, option: str):
        self.path, self.option = path, option
        self.temp = temp_name(path)
        self.fh: IO[Any] | None = None

    def remove_stale(self) -> None:
        """Remove temporary files of earlier runs that were killed (call only while holding the lock)."""
        for stale in self.path.parent.glob(f".{glob_escape(self.path.name)}.tmp-*"):
            if stale != self.temp and not stale.is_symlink() and stale.is_file():
                try:
                    stale.unlink()
                except OSError:
                    pass

    def create(self) -> Path:
        """Create the (empty) temporary file and return its path (for writers that open it themselves)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.temp, flags, 0o666)
        except FileExistsError:
            os.unlink(self.temp)  # our own pid's leftover: a previous process with this pid was killed
            fd = os.open(self.temp, flags, 0o666)
        except OSError as exc:
            raise ExportKBError(f"{self.option} {self.path}: cannot create {self.temp}: {exc.strerror} "
                                f"(fix: check that the directory is writable)") from None
        os.close(fd)
        return self.temp

    def open_text(self) -> IO[str]:
        """The temporary file, open for writing text (UTF-8, newlines as written)."""
        self.create()
        self.fh = open(self.temp, "w", encoding="utf-8", newline="")
        return self.fh

    def commit(self) -> None:
        """Flush to disk and rename over the output. An error leaves the previous output unchanged."""
        try:
            if self.fh is not None:
                self.fh.flush()
                os.fsync(self.fh.fileno())
                self.fh.close()
                self.fh = None
            else:
                with open(self.temp, "rb") as fh:
                    os.fsync(fh.fileno())
            try:
                os.chmod(self.temp, os.stat(self.path).st_mode & 0o7777)  # keep the replaced file's mode
            except FileNotFoundError:
                pass
            os.replace(self.temp, self.path)
        except OSError as exc:
            self.discard()
            raise write_failed(self.path, self.option, exc) from None

    def discard(self) -> None:
        """Close and remove the temporary file; the output keeps its previous content (if any)."""
        if self.fh is not None:
            try:
                self.fh.close()
            except OSError:
                pass  # e.g. a full disk while flushing: the file is removed below anyway
            self.fh = None
        try:
            os.unlink(self.temp)
        except OSError:
            pass


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped (for globbing a file's own temporary files)."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def write_failed(path: Path, option: str, exc: OSError) -> RunFailed:
    """The message for an output that could not be written (full disk, I/O error ...)."""
    return RunFailed(f"{option} {path}: cannot write: {exc.strerror or exc}; nothing was replaced "
                     f"(the previous {path.name}, if any, is unchanged) (fix: free space or write elsewhere, then re-run)")


class SafeOutputs:
    """The outputs of one run: locked, written to temporary files, renamed together on :meth:`commit`.

    Use as a context manager; leaving it without :meth:`commit` (an exception, an interrupt)
    discards every temporary file and releases the locks.
    """

    def __init__(self) -> None:
        self.files: list[AtomicFile] = []
        self.locks: list[OutputLock] = []
        self.committed = False

    def add(self, path: Path, option: str) -> AtomicFile:
        """Lock ``path`` and prepare its temporary file (call :func:`check_output` first)."""
        lock = OutputLock(path, option)
        lock.acquire()
        self.locks.append(lock)
        f = AtomicFile(path, option)
        f.remove_stale()
        self.files.append(f)
        return f

    def commit(self) -> None:
        """Rename every output into place. SIGINT and SIGTERM wait until all are renamed (where the
        platform can block signals), so an interrupt never leaves some outputs new and some old."""
        block = getattr(signal, "pthread_sigmask", None)
        stop = {signal.SIGINT, signal.SIGTERM}
        old = block(signal.SIG_BLOCK, stop) if block else None
        try:
            for f in self.files:
                f.commit()
            self.files = []
            self.committed = True
        finally:
            if block:
                block(signal.SIG_SETMASK, old)

    def close(self) -> None:
        for f in self.files:
            f.discard()
        self.files = []
        for lock in self.locks:
            lock.release()
        self.locks = []

    def __enter__(self) -> "SafeOutputs":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_text_atomic(path: Path, text: str, option: str) -> None:
    """Write a whole (small) output at once, with the same refusals, lock and rename as a batch."""
    check_output(path, option)
    with SafeOutputs() as outs:
        f = outs.add(path, option)
        fh = f.open_text()
        try:
            fh.write(text)
        except OSError as exc:
            raise write_failed(path, option, exc) from None
        outs.commit()


# --------------------------------------------------------------------------- CSV injection
#: characters that make a spreadsheet read a cell as a formula (OWASP)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: a cell that is only a plain decimal number: read as that number, never as a formula
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")


def dangerous(value: Any) -> bool:
    """Would a spreadsheet read this cell as a formula? (Strings only; see the module docstring.)"""
    return isinstance(value, str) and value.startswith(FORMULA_START) and NUMBER.match(value) is None


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` if a spreadsheet would read it as a formula; else unchanged."""
    return "'" + value if dangerous(value) else value


def _field(value: Any, force_quote: bool) -> str:
    """One cell as Python's csv module writes it (minimal quoting), quoted also when ``force_quote``."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    if force_quote or any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class CsvOut:
    """A csv writer whose cells cannot be formulas: rows without a dangerous cell are written by
    :func:`csv.writer` itself (the bytes of a plain CSV file); a row with one is written with that
    cell neutralised and quoted."""

    def __init__(self, fh: IO[str], lineterminator: str = "\r\n"):
        self.fh, self.lineterminator = fh, lineterminator
        self._csv = csv.writer(fh, lineterminator=lineterminator)

    def writerow(self, cells: Sequence[Any]) -> None:
        for v in cells:
            if isinstance(v, str) and v.startswith(FORMULA_START) and dangerous(v):
                break
        else:
            self._csv.writerow(cells)
            return
        self.fh.write(",".join(_field("'" + v, True) if dangerous(v) else _field(v, False) for v in cells)
                      + self.lineterminator)

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def neutralise_csv_text(text: str, lineterminator: str = "\n") -> str:
    """A whole CSV document (e.g. pandas' ``to_csv``) with every dangerous cell neutralised.

    The cells are read back exactly as written, so only the dangerous cells change; other rows
    are rewritten by the csv module with the same minimal quoting.
    """
    out = io.StringIO()
    w = CsvOut(out, lineterminator)
    for row in csv.reader(io.StringIO(text, newline="")):
        w.writerow(row)
    return out.getvalue()


def frame_csv(df: Any) -> str:
    """A pandas DataFrame as CSV text (no index), dangerous cells neutralised.

    pandas writes the cells (its own formatting of numbers, NaN, lists ...); only the cells a
    spreadsheet would run as formulas change, so a frame without them gives ``to_csv``'s bytes.
    """
    return neutralise_csv_text(df.to_csv(index=False, lineterminator=os.linesep), lineterminator=os.linesep)
