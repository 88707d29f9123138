"""Open a plan.gpkg in QGIS (Debian's python3-qgis, run by /usr/bin/python3) and report.

Run by tests/planning/test_qgis_styles.py in a subprocess, since QGIS's bindings belong to the
system Python, not to the project's virtual environment:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 open_plan.py plan.gpkg picture.png

Prints JSON: per layer, whether it is valid, its feature count, the renderer QGIS loaded from the
GeoPackage's ``layer_styles`` (type, attribute, categories with value, label and colour); then
renders every layer to the PNG, and the trenches alone around the longest new trench to
``*-trenches.png``.
"""

import json
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

LAYERS = ("trenches", "cables", "connections", "masts", "splices", "links", "power_links")


def describe(layer: QgsVectorLayer) -> dict:
    renderer = layer.renderer()
    out = {
        "valid": layer.isValid(),
        "features": layer.featureCount(),
        "renderer": renderer.type() if renderer else None,
    }
    if renderer is not None and renderer.type() == "categorizedSymbol":
        out["attribute"] = renderer.classAttribute()
        out["categories"] = [
            {
                "value": str(cat.value()),
                "label": cat.label(),
                "colour": cat.symbol().color().name(QColor.HexRgb),
            }
            for cat in renderer.categories()
        ]
    return out


def render(layers: list, extent: QgsRectangle, path: str) -> None:
    """Draw ``layers`` (first on top) over ``extent`` into a 1200x900 PNG."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[0].crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(1200, 900))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(path, "PNG")


def main() -> None:
    gpkg, picture = sys.argv[1], sys.argv[2]
    app = QgsApplication([], False)
    app.initQgis()
    report = {}
    layers = []
    for name in LAYERS:
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        report[name] = describe(layer)
        layers.append(layer)
    extent = QgsRectangle()
    for layer in layers:
        if layer.isValid() and layer.featureCount():
            extent.combineExtentWith(layer.extent())
    by_name = dict(zip(LAYERS, layers, strict=True))
    # The first layer is drawn on top: masts, splices, cables, connections, then trenches.
    order = ("masts", "splices", "cables", "connections", "trenches")
    render([by_name[name] for name in order], extent, picture)
    # At the full extent a trench is a few pixels under its mast's marker: a close-up of the
    # longest new trench, trenches alone, shows how they are drawn.
    trenches = by_name["trenches"]
    longest = max(
        (f for f in trenches.getFeatures() if f["mode"] == "trench"),
        key=lambda f: f.geometry().length(),
    )
    close_up = longest.geometry().boundingBox()
    close_up.scale(1.5)
    render([trenches], close_up, picture.replace(".png", "-trenches.png"))
    print(json.dumps(report), flush=True)
    # QGIS 3.22 crashes in exitQgis() while layers are alive; the process has said all it has
    # to say, so it leaves without the teardown.
    os._exit(0)


if __name__ == "__main__":
    main()
