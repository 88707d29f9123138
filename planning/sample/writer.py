"""Write a sample to one GeoPackage, atomically: a failed run never leaves half a file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pyogrio

from planning.errors import SampleError
from planning.sample.generator import Sample


def write_sample(sample: Sample, out: Path) -> None:
    """Write the six layers to `out` (GeoPackage), replacing any existing file only on success."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SampleError(f"{out.parent}: cannot create the output folder ({err})") from err
    # Same folder, so the final rename stays on one file system and is atomic.
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp.gpkg")
    try:
        tmp.unlink(missing_ok=True)
        for name, frame in sample.layers.items():
            frame.to_file(
                tmp,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                # One geometry type per table: QGIS and the validator read MultiPolygon communes.
                promote_to_multi=name == "communes",
            )
        tmp.replace(out)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        tmp.unlink(missing_ok=True)
        raise SampleError(f"{out}: cannot write the sample ({err})") from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
