"""Sample layers shipped with Vigie, and the open data they are generated from.

A package only so that the files travel with an installed Vigie (wheel, Docker image).
"""

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    """Path of a file shipped in this package, e.g. ``data_path("eure", "eure.gpkg")``."""
    return Path(str(files(__name__).joinpath(*parts)))
