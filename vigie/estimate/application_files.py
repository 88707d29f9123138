"""Writing the application files of every local owner into a folder: all of them, or none.

The files are built in a temporary folder beside the target, then moved into place once every
one of them is written; on any error the temporary folder is removed and the target is left as it
was (not created, or unchanged). A target that exists already keeps its other files; the
application files it held under the same names are replaced.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from vigie.errors import ConfigurationError
from vigie.estimate.application import Application
from vigie.estimate.application_book import application_workbook
from vigie.estimate.application_html import application_html, index_html
from vigie.estimate.application_map import Boundaries, load_boundaries, map_svg
from vigie.estimate.financing import OwnerPlan

log = logging.getLogger(__name__)

Progress = Callable[[Application], None]


def check_target(directory: Path) -> Path:
    """The nearest existing folder at or above ``directory``; refuses a file in the way."""
    directory = Path(directory)
    for candidate in (directory, *directory.parents):
        if candidate.exists() or candidate.is_symlink():
            if not candidate.is_dir():
                raise ConfigurationError(
                    f"{directory}: {candidate} is not a folder; choose another --applications"
                )
            if not os.access(candidate, os.W_OK):
                raise ConfigurationError(f"{directory}: cannot write in {candidate}")
            return candidate
    raise ConfigurationError(f"{directory}: no existing folder above it")


def write_applications(
    apps: Sequence[Application],
    others: Sequence[OwnerPlan],
    source: str,
    directory: Path,
    *,
    boundaries: Boundaries | None = None,
    progress: Progress | None = None,
    before_publish: Callable[[], object] | None = None,
) -> list[Path]:
    """Write ``<stem>.xlsx`` and ``<stem>.html`` per application and ``index.html``.

    ``before_publish`` runs once every file is staged and before any is moved into place (the
    CLI writes the estimate there), so that its failure too leaves the folder untouched.
    """
    directory = Path(directory)
    anchor = check_target(directory)
    boundaries = boundaries or load_boundaries()
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=anchor))
    try:
        names = []
        for app in apps:
            (staging / f"{app.stem}.xlsx").write_bytes(application_workbook(app))
            figure = map_svg(app.sites, app.owner.communes, boundaries)
            html = application_html(app, figure)
            (staging / f"{app.stem}.html").write_text(html, encoding="utf-8")
            names += [f"{app.stem}.xlsx", f"{app.stem}.html"]
            if progress is not None:
                progress(app)
        (staging / "index.html").write_text(index_html(apps, others, source), encoding="utf-8")
        names.append("index.html")
        if before_publish is not None:
            before_publish()
        _publish(staging, directory, names)
    except OSError as err:
        raise ConfigurationError(
            f"{directory}: cannot write the application files ({err.strerror or err})"
        ) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("wrote %d application files into %s", len(names), directory)
    return [directory / name for name in names]


def _publish(staging: Path, directory: Path, names: list[str]) -> None:
    """Move the staged files into ``directory``: one rename when it does not exist yet."""
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(directory)
        return
    for name in names:
        (staging / name).replace(directory / name)
