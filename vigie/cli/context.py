"""What every command group shares: the two consoles, who acts, a database session, progress.

Results go to stdout (``out``), everything else to stderr (``err``), so a script can capture a
result. Changes made from the command line are recorded in the audit trail as ``cli:<os user>``.

Neither console splits a line it prints: rich would otherwise wrap at the terminal's width, or at
80 columns when the output is not a terminal (a pipe, a file, CI), cutting a printed login, a
path or a verdict in two. Long text is left to the terminal to fold (``soft_wrap``), and a console
that is not a terminal is as wide as :data:`PIPE_WIDTH`, so that tables are not squeezed either.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vigie.settings import Settings

PIPE_WIDTH = 10_000
"""Columns of a console that is not a terminal: more than any line Vigie prints."""


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def console(*, stderr: bool = False) -> Console:
    """A console that never splits a line (module docstring)."""
    terminal = _is_terminal(sys.stderr if stderr else sys.stdout)
    return Console(stderr=stderr, soft_wrap=True, width=None if terminal else PIPE_WIDTH)


out = console()
err = console(stderr=True)


def actor() -> str:
    """The audit trail's actor for a command: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


@contextmanager
def database_session() -> Iterator[tuple[Session, Settings]]:
    """A session on the configured database (committed at the end) and the settings; refuses a
    database whose schema is not the code's."""
    from vigie import db
    from vigie.settings import load_settings

    settings = load_settings()
    engine = db.make_engine(settings.db_url)
    try:
        db.require_current_schema(engine)
        with db.session_scope(db.session_factory(engine)) as session:
            yield session, settings
    finally:
        engine.dispose()


def progress_bars() -> Progress:
    """Progress bars on stderr, kept on screen once done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


STEPS = {
    "network": "réseau",
    "routing": "routage",
    "second routes": "seconds chemins",
    "lower bound": "borne inférieure",
    "communes": "communes",
    "streets": "rues",
    "roads": "routes",
    "ftth": "réseau FttH",
    "masts": "mâts",
    "power_points": "points d'alimentation",
}
"""The French labels of the planner's progress steps (planning names them in English)."""


def reporter(progress: Progress) -> Callable[[str, int, int], None]:
    """A ``progress(step, done, total)`` callback drawing one bar per step."""
    tasks: dict[str, int] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(STEPS.get(step, step), total=total)
        progress.update(tasks[step], completed=done, total=total)

    return report


class _OneLine(logging.Formatter):
    """A record's first line, without its traceback: the screen's share of an error."""

    def format(self, record: logging.LogRecord) -> str:
        bare = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(bare).splitlines()[0]


def log_to_file(path: Path) -> Path:
    """Send this process's logs to ``path`` (a new file) instead of the screen; an error also
    gets one line on stderr that names the file.

    For a command whose screen is for a person (the demo): the libraries log at INFO, and
    onvif-zeep-async even configures the root logger to print them, which buried the demo's
    URL and logins under pyogrio, Alembic and garbage collector lines. Installed before those
    libraries are imported, it leaves their ``logging.basicConfig`` nothing to do.
    """
    from vigie import redaction

    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    path.write_bytes(b"")  # a new file each run; then appended to (O_APPEND), so that a child
    # process writing to it too (the demo's simulator) never has its lines overwritten
    to_file = logging.FileHandler(path, mode="a", encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_screen = logging.StreamHandler(sys.stderr)
    to_screen.setLevel(logging.ERROR)
    to_screen.setFormatter(_OneLine(f"%(levelname)s %(name)s: %(message)s (see {path})"))
    root.addHandler(to_file)
    root.addHandler(to_screen)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # warnings are logs too
    redaction.install(("",))  # secrets masked in the file as in the service's logs
    return path


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Keep stdout for results: HiGHS prints its banner there from C++ (HiGHS issue #1932)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
