"""The communes and intercommunalities of the département, loaded into the database.

Source: ``@etalab/decoupage-administratif`` (MIT licence), shipped in ``gis_data/sources``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie.errors import VigieError
from vigie.models import Commune, Epci


class ReferentialError(VigieError):
    """The communes file is unreadable or not in the expected format: fix or replace it."""


@dataclass(frozen=True)
class Referential:
    epcis: dict[str, str]  # SIREN -> name
    communes: tuple[tuple[str, str, int, str | None], ...]  # code, name, population, SIREN


def read_referential(path: Path) -> Referential:
    """Parse a ``decoupage-administratif`` extract: current communes and their EPCI."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ReferentialError(f"{path}: cannot read the file: {err.strerror}") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReferentialError(f"{path}: not a JSON document: {err}") from err
    if not isinstance(document, dict) or not isinstance(document.get("communes"), list):
        raise ReferentialError(f"{path}: expected an object with a 'communes' list")
    epcis = {
        str(e["siren"]): str(e["nom"])
        for e in document.get("epci", [])
        if isinstance(e, dict) and "siren" in e and "nom" in e
    }
    communes = []
    for index, item in enumerate(document["communes"], start=1):
        if not isinstance(item, dict) or item.get("type") != "commune-actuelle":
            continue
        try:
            code, nom, population = str(item["code"]), str(item["nom"]), int(item["population"])
        except (KeyError, TypeError, ValueError) as err:
            raise ReferentialError(
                f"{path}: commune #{index}: missing or invalid code, nom or population ({err})"
            ) from err
        siren = item.get("epci_siren")
        if siren is not None and str(siren) not in epcis:
            epcis[str(siren)] = str(item.get("epci_nom") or siren)
        communes.append((code, nom, population, None if siren is None else str(siren)))
    return Referential(epcis=epcis, communes=tuple(sorted(communes)))


def load_referential(session: Session, referential: Referential) -> tuple[int, int]:
    """Insert or update every EPCI and commune; returns how many of each are stored."""
    for siren, nom in sorted(referential.epcis.items()):
        session.merge(Epci(siren=siren, nom=nom))
    session.flush()
    for code, nom, population, siren in referential.communes:
        session.merge(Commune(code=code, nom=nom, population=population, epci_siren=siren))
    session.flush()
    n_epcis = session.scalar(select(func.count()).select_from(Epci)) or 0
    n_communes = session.scalar(select(func.count()).select_from(Commune)) or 0
    return n_epcis, n_communes
