"""The README's plan on real OSM roads: `PYTHONPATH=. python docs/osm_plan.py [OUT_DIR]`.

Imports the Monaco extract of the importer tests (`vigie import osm`), adds the deterministic
masts, FttH and power points of `tests/helpers/osm_plan.py` on its roads, plans it (`vigie plan`)
and draws `docs/images/plan-osm.png` with `docs/plan_picture.py`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.osm_plan import COMMUNE, add_planning_layers

REPO = Path(__file__).resolve().parents[1]
MONACO = REPO / "tests" / "planning" / "importers" / "data" / "monaco.osm.gz"
PICTURE = REPO / "docs" / "images" / "plan-osm.png"


def vigie(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).with_name("vigie")), *args], check=False)  # noqa: S603


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/osm-plan")
    out.mkdir(parents=True, exist_ok=True)
    layers = out / "monaco.gpkg"
    vigie("import", "osm", str(MONACO), "--out", str(layers), "--report", str(out / "report.json"))
    add_planning_layers(layers)
    vigie("plan", str(layers), "--out", str(out / "plan"))
    PICTURE.parent.mkdir(exist_ok=True)
    subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(REPO / "docs" / "plan_picture.py"), str(out / "plan"), str(layers),
         "--commune", COMMUNE, "--out", str(PICTURE)],
        check=True,
    )  # fmt: skip


if __name__ == "__main__":
    main()
