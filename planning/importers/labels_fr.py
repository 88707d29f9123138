"""Why features were left out, in French: one label per skip code of the importers.

The importers report each feature left out with an English ``reason`` (for the JSON report and
logs; it may quote the feature's values) and a stable ``code`` per kind of reason. What French
users read, the summary of ``vigie import``, shows these labels instead, counted per code.
Every code an importer uses has its label here (tests/planning/importers/test_labels_fr.py).
"""

from __future__ import annotations

__all__ = ["SKIP_LABELS", "skip_label"]

SKIP_LABELS: dict[str, str] = {
    # OpenStreetMap (planning/importers/osm.py)
    "osm.no_highway": "voie sans étiquette highway",
    "osm.area": "voie dessinée comme une surface (area=yes), pas comme une ligne",
    "osm.unknown_highway": "valeur de highway inconnue (absente de la table de correspondance)",
    "osm.footway": "trottoir ou chemin piéton : la fibre suit la route elle-même",
    "osm.path": "sentier : pas une route le long de laquelle on creuse",
    "osm.cycleway": "piste cyclable : la fibre suit les routes",
    "osm.bridleway": "chemin cavalier : pas une route le long de laquelle on creuse",
    "osm.steps": "escalier : impossible d'y creuser une tranchée",
    "osm.corridor": "couloir intérieur, pas une route",
    "osm.elevator": "ascenseur, pas une route",
    "osm.via_ferrata": "via ferrata, pas une route",
    "osm.ladder": "échelle, pas une route",
    "osm.platform": "quai de transport en commun, pas une route",
    "osm.bus_stop": "arrêt de bus, pas une route",
    "osm.rest_area": "aire de repos dessinée comme une voie, pas une route",
    "osm.services": "aire de services d'autoroute dessinée comme une voie, pas une route",
    "osm.raceway": "circuit de course, pas une route publique",
    "osm.bus_guideway": "voie de bus guidé : pas de tranchée le long des rails de guidage",
    "osm.escape": "voie de détresse, pas une route le long de laquelle on creuse",
    "osm.emergency_bay": "refuge d'arrêt d'urgence, pas une route",
    "osm.construction": "route en construction : pas encore là",
    "osm.proposed": "route proposée : pas construite",
    "osm.planned": "route prévue : pas construite",
    "osm.abandoned": "route abandonnée : n'est plus une route",
    "osm.disused": "route désaffectée : n'est plus une route",
    "osm.razed": "route détruite : n'est plus une route",
    "osm.driveway": "accès à une propriété : privé, et aucun mât au bout",
    "osm.drive_through": "voie de service au volant d'un commerce : privée",
    "osm.too_short": "voie de moins de deux nœuds : pas une ligne",
    "osm.missing_nodes": "nœuds absents du fichier (extrait qui coupe la voie, ou fichier abîmé)",
    "osm.zero_length": "longueur nulle : tous ses nœuds au même endroit",
    "osm.segment_outside": "tronçon hors de la zone",
    "osm.outside": "voie hors de la zone",
    # IGN BD TOPO (planning/importers/bdtopo.py)
    "bdtopo.footpath": "sentier : pas une route le long de laquelle on creuse",
    "bdtopo.steps": "escalier : impossible d'y creuser une tranchée",
    "bdtopo.cycleway": "piste cyclable : la fibre suit les routes",
    "bdtopo.ferry": "bac ou liaison maritime : pas de route à creuser",
    "bdtopo.unknown_nature": "nature inconnue (absente de la table de correspondance)",
    "bdtopo.not_in_service": "tronçon pas en service (en projet, en construction…)",
    "bdtopo.empty_geometry": "tronçon sans géométrie",
    "bdtopo.outside": "tronçon hors de la zone",
    # GraceTHD (planning/importers/gracethd.py, gracethd_model.py)
    "gracethd.node_without_code": "nœud sans nd_code",
    "gracethd.node_twice": "nd_code en double : seul le premier nœud est gardé",
    "gracethd.subscriber_site": "site abonné (SF) : hors du réseau auquel un mât se raccorde",
    "gracethd.radio_site": "site radio (SE) : pas un nœud FttH",
    "gracethd.junction": "jonction de cheminements (JX) sans équipement",
    "gracethd.no_role": "nœud sans rôle FttH (ni site, ni boîtier, ni point technique)",
    "gracethd.node_not_a_point": "nœud sans géométrie ponctuelle",
    "gracethd.ptech_not_civil_works": "point technique ni chambre, ni appui, ni ancrage en façade",
    "gracethd.site_not_ftth": "site technique ni NRO ni PM (SRO) : pas un nœud FttH",
    "gracethd.no_node": "ligne rattachée à aucun nœud (code de nœud vide)",
    "gracethd.node_unknown": "ligne rattachée à un nœud absent de t_noeud",
    "gracethd.pto": "prise terminale optique (PTO) : hors du réseau auquel un mât se raccorde",
    "gracethd.dti": "dispositif de terminaison intérieur (DTI) : hors du réseau d'un mât",
    "gracethd.box_point_unknown": "boîtier sur un point technique absent ou sans nœud",
    "gracethd.box_room_unknown": "boîtier dans un local technique absent ou sans nœud",
    "gracethd.box_unplaced": "boîtier placé nulle part (ni bp_pt_code ni bp_lt_code)",
    "gracethd.box_not_pbo": "boîtier qui n'est pas un PBO",
    "gracethd.cable_unplaced": "câble sans extrémités connues : impossible à placer",
    "gracethd.route_without_code": "cheminement sans cm_code",
    "gracethd.route_not_a_line": "cheminement sans géométrie linéaire utilisable",
    "gracethd.no_implantation": "cheminement sans type d'implantation (cm_typ_imp)",
    "gracethd.unknown_implantation": "cheminement au type d'implantation inconnu (cm_typ_imp)",
    "gracethd.in_building": "cheminement en immeuble : pas dans la rue",
    "gracethd.buried": "câble en pleine terre, sans fourreau : pas de place pour un autre",
    "gracethd.sewer": "cheminement en égout : accord de l'exploitant nécessaire, non modélisé",
    "gracethd.specific": "implantation spécifique : rien ne dit qu'un câble peut y passer",
    "gracethd.conduit_unknown": "cheminement lié à une conduite absente de t_conduite",
    "gracethd.conduit_without_code": "conduite sans cd_code",
}
"""Skip code -> what the French summary says."""


def skip_label(code: str) -> str:
    """The French label of ``code``; the code itself if it has none (a test forbids that)."""
    return SKIP_LABELS.get(code, code)
