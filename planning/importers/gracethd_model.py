"""GraceTHD v2.0.x as far as Vigie reads and writes it: tables, fields, what their codes mean here.

The field lists are those of the community's template tables (GraceTHD-MCD v2.0.1; v2.0.2 keeps the
same base tables and adds ``*_patch20x`` tables). They live here, not in a data file, so the writer
needs nothing outside the package; tests compare them with the published templates
(tests/planning/importers/data/gracethd/).
"""

from __future__ import annotations

from planning.importers.report import Reason

MODEL_VERSION = "2.0"
"""Base tables of GraceTHD-MCD v2.0.1 and v2.0.2 (the CNIG standard)."""

TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "t_noeud": (
        "nd_code", "nd_codeext", "nd_nom", "nd_coderat", "nd_r1_code", "nd_r2_code", "nd_r3_code",
        "nd_r4_code", "nd_voie", "nd_type", "nd_type_ep", "nd_comment", "nd_dtclass", "nd_geolqlt",
        "nd_geolmod", "nd_geolsrc", "nd_creadat", "nd_majdate", "nd_majsrc", "nd_abddate",
        "nd_abdsrc",
    ),
    "t_cheminement": (
        "cm_code", "cm_codeext", "cm_ndcode1", "cm_ndcode2", "cm_cm1", "cm_cm2", "cm_r1_code",
        "cm_r2_code", "cm_r3_code", "cm_r4_code", "cm_voie", "cm_gest_do", "cm_prop_do",
        "cm_statut", "cm_etat", "cm_datcons", "cm_datemes", "cm_avct", "cm_typelog", "cm_typ_imp",
        "cm_nature", "cm_compo", "cm_cddispo", "cm_fo_util", "cm_mod_pos", "cm_passage",
        "cm_revet", "cm_remblai", "cm_charge", "cm_larg", "cm_fildtec", "cm_mut_org", "cm_long",
        "cm_lgreel", "cm_comment", "cm_dtclass", "cm_geolqlt", "cm_geolmod", "cm_geolsrc",
        "cm_creadat", "cm_majdate", "cm_majsrc", "cm_abddate", "cm_abdsrc",
    ),
    "t_cableline": (
        "cl_code", "cl_cb_code", "cl_long", "cl_comment", "cl_dtclass", "cl_geolqlt", "cl_geolmod",
        "cl_geolsrc", "cl_creadat", "cl_majdate", "cl_majsrc", "cl_abddate", "cl_abdsrc",
    ),
    "t_cable": (
        "cb_code", "cb_codeext", "cb_etiquet", "cb_nd1", "cb_nd2", "cb_r1_code", "cb_r2_code",
        "cb_r3_code", "cb_r4_code", "cb_prop", "cb_gest", "cb_user", "cb_proptyp", "cb_statut",
        "cb_etat", "cb_dateins", "cb_datemes", "cb_avct", "cb_tech", "cb_typephy", "cb_typelog",
        "cb_rf_code", "cb_capafo", "cb_fo_disp", "cb_fo_util", "cb_modulo", "cb_diam", "cb_color",
        "cb_lgreel", "cb_localis", "cb_comment", "cb_creadat", "cb_majdate", "cb_majsrc",
        "cb_abddate", "cb_abdsrc",
    ),
    "t_cond_chem": (
        "dm_cd_code", "dm_cm_code", "dm_creadat", "dm_majdate", "dm_majsrc", "dm_abddate",
        "dm_abdsrc",
    ),
    "t_conduite": (
        "cd_code", "cd_codeext", "cd_etiquet", "cd_cd_code", "cd_r1_code", "cd_r2_code",
        "cd_r3_code", "cd_r4_code", "cd_prop", "cd_gest", "cd_user", "cd_proptyp", "cd_statut",
        "cd_etat", "cd_dateaig", "cd_dateman", "cd_datemes", "cd_avct", "cd_type", "cd_dia_int",
        "cd_dia_ext", "cd_color", "cd_long", "cd_nbcable", "cd_occup", "cd_comment", "cd_creadat",
        "cd_majdate", "cd_majsrc", "cd_abddate", "cd_abdsrc",
    ),
    "t_cab_cond": (
        "cc_cb_code", "cc_cd_code", "cc_creadat", "cc_majdate", "cc_majsrc", "cc_abddate",
        "cc_abdsrc",
    ),
    "t_ptech": (
        "pt_code", "pt_codeext", "pt_etiquet", "pt_nd_code", "pt_ad_code", "pt_gest_do",
        "pt_prop_do", "pt_prop", "pt_gest", "pt_user", "pt_proptyp", "pt_statut", "pt_etat",
        "pt_dateins", "pt_datemes", "pt_avct", "pt_typephy", "pt_typelog", "pt_rf_code",
        "pt_nature", "pt_secu", "pt_occp", "pt_a_dan", "pt_a_dtetu", "pt_a_struc", "pt_a_haut",
        "pt_a_passa", "pt_a_strat", "pt_rotatio", "pt_detec", "pt_comment", "pt_creadat",
        "pt_majdate", "pt_majsrc", "pt_abddate", "pt_abdsrc",
    ),
    "t_ebp": (
        "bp_code", "bp_etiquet", "bp_codeext", "bp_pt_code", "bp_lt_code", "bp_sf_code", "bp_prop",
        "bp_gest", "bp_user", "bp_proptyp", "bp_statut", "bp_etat", "bp_occp", "bp_datemes",
        "bp_avct", "bp_typephy", "bp_typelog", "bp_rf_code", "bp_entrees", "bp_ref_kit",
        "bp_ca_nb", "bp_nb_pas", "bp_linecod", "bp_oc_code", "bp_racco", "bp_comment",
        "bp_creadat", "bp_majdate", "bp_majsrc", "bp_abddate", "bp_abdsrc",
    ),
    "t_sitetech": (
        "st_code", "st_nd_code", "st_codeext", "st_nom", "st_prop", "st_gest", "st_user",
        "st_proptyp", "st_statut", "st_etat", "st_dateins", "st_datemes", "st_avct", "st_typephy",
        "st_typelog", "st_nblines", "st_ad_code", "st_comment", "st_creadat", "st_majdate",
        "st_majsrc", "st_abddate", "st_abdsrc",
    ),
    "t_organisme": (
        "or_code", "or_siren", "or_nom", "or_type", "or_activ", "or_l331", "or_siret", "or_nometab",
        "or_ad_code", "or_nomvoie", "or_numero", "or_rep", "or_local", "or_postal", "or_commune",
        "or_telfixe", "or_mail", "or_comment", "or_creadat", "or_majdate", "or_majsrc",
        "or_abddate", "or_abdsrc",
    ),
    "t_ltech": (
        "lt_code", "lt_codeext", "lt_etiquet", "lt_st_code", "lt_prop", "lt_gest", "lt_user",
        "lt_proptyp", "lt_statut", "lt_etat", "lt_dateins", "lt_datemes", "lt_local", "lt_elec",
        "lt_clim", "lt_occp", "lt_idmajic", "lt_comment", "lt_creadat", "lt_majdate", "lt_majsrc",
        "lt_abddate", "lt_abdsrc",
    ),
    "t_fibre": (
        "fo_code", "fo_code_ext", "fo_cb_code", "fo_nincab", "fo_numtub", "fo_nintub", "fo_type",
        "fo_etat", "fo_color", "fo_reper", "fo_proptyp", "fo_comment", "fo_creadat", "fo_majdate",
        "fo_majsrc", "fo_abddate", "fo_abdsrc",
    ),
    "t_position": (
        "ps_code", "ps_numero", "ps_1", "ps_2", "ps_cs_code", "ps_ti_code", "ps_type", "ps_fonct",
        "ps_etat", "ps_preaff", "ps_comment", "ps_creadat", "ps_majdate", "ps_majsrc", "ps_abddate",
        "ps_abdsrc",
    ),
    "t_ropt": (
        "rt_id", "rt_code", "rt_code_ext", "rt_fo_code", "rt_fo_ordr", "rt_comment", "rt_creadat",
        "rt_majdate", "rt_majsrc", "rt_abddate", "rt_abdsrc",
    ),
}  # fmt: skip

GEOMETRY_TABLES: dict[str, str] = {
    "t_noeud": "Point",
    "t_cheminement": "LineString",
    "t_cableline": "LineString",
}
"""Tables delivered as shapefiles; every other table is a CSV file."""

SHAPEFILE_NUMBERS: dict[str, str] = {
    "nd_geolqlt": "Float64",
    "cm_cddispo": "Int64",
    "cm_fo_util": "Int64",
    "cm_charge": "Float64",
    "cm_larg": "Float64",
    "cm_long": "Float64",
    "cm_lgreel": "Float64",
    "cm_geolqlt": "Float64",
    "cl_long": "Float64",
    "cl_geolqlt": "Float64",
}
"""Numeric DBF fields of the template shapefiles (the others are text, dates left empty as text)."""

REQUIRED_TABLES: tuple[str, ...] = ("t_noeud", "t_cheminement", "t_ptech", "t_ebp", "t_sitetech")
"""Without these the network cannot be read; a table may be empty, but its file must be there."""

OPTIONAL_TABLES: dict[str, str] = {
    "t_organisme": "owners and managers are given as organisation codes, not names",
    "t_conduite": "spare sub-ducts come only from cm_cddispo",
    "t_cond_chem": "spare sub-ducts come only from cm_cddispo",
    "t_cab_cond": "a conduit's occupancy comes only from cd_occup and cd_nbcable",
    "t_cable": "no free fibres and no parents (cables are how fibres reach a node)",
    "t_cableline": "cables without cb_nd1/cb_nd2 cannot be placed",
    "t_fibre": "free fibres come only from cb_fo_disp",
    "t_position": "fibres are counted free unless on an optical route (t_ropt)",
    "t_ropt": "fibres are counted free unless spliced or connected (t_position)",
    "t_ltech": "a PBO placed in a technical room (bp_lt_code) cannot be placed",
}
"""Tables read when present, with what their absence means for the import."""

KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "t_noeud": ("nd_code", "nd_type"),
    "t_cheminement": ("cm_code", "cm_typ_imp", "cm_cddispo"),
    "t_ptech": ("pt_code", "pt_nd_code", "pt_typephy", "pt_prop", "pt_gest"),
    "t_ebp": ("bp_code", "bp_pt_code", "bp_lt_code", "bp_typelog", "bp_prop", "bp_gest"),
    "t_sitetech": ("st_code", "st_nd_code", "st_typelog", "st_prop", "st_gest"),
    "t_organisme": ("or_code", "or_nom"),
    "t_conduite": ("cd_code", "cd_cd_code", "cd_type", "cd_prop", "cd_gest", "cd_occup"),
    "t_cond_chem": ("dm_cd_code", "dm_cm_code"),
    "t_cab_cond": ("cc_cb_code", "cc_cd_code"),
    "t_cable": ("cb_code", "cb_nd1", "cb_nd2", "cb_fo_disp"),
    "t_cableline": ("cl_code", "cl_cb_code"),
    "t_fibre": ("fo_code", "fo_cb_code", "fo_etat"),
    "t_position": ("ps_code", "ps_1", "ps_2", "ps_fonct", "ps_preaff"),
    "t_ropt": ("rt_fo_code",),
    "t_ltech": ("lt_code", "lt_st_code"),
}
"""The v2.0.x fields the importer relies on: a table without them is not GraceTHD v2.0.x."""

# --- what the codes mean for the planner ------------------------------------------------------

IMPLANTATION_KIND: dict[str, str] = {
    "7": "duct",  # CONDUITE
    "5": "duct",  # CANIVEAU: a covered trough, cable is pulled in like a duct
    "6": "duct",  # GALERIE: an accessible gallery, same
    "0": "aerial",  # AERIEN TELECOM
    "1": "aerial",  # AERIEN ENERGIE (on electricity poles)
    "2": "aerial",  # FACADE: cable clipped along walls, laid like aerial cable, no digging
}
"""``cm_typ_imp`` (l_implantation_type) -> ``ftth_routes.kind``."""

IMPLANTATION_SKIPPED: dict[str, Reason] = {
    "3": Reason(
        "gracethd.in_building",
        "inside a building (IMMEUBLE): not a route for a cable in the street",
    ),
    "4": Reason(
        "gracethd.buried",
        "cable buried without a duct (PLEINE TERRE): no room for a new cable",
    ),
    "8": Reason(
        "gracethd.sewer",
        "in a sewer (EGOUT): needs the sewer operator's agreement, not modelled",
    ),
    "9": Reason(
        "gracethd.specific",
        "specific implantation (SPECIFIQUE): nothing says a cable can be added",
    ),
}
"""``cm_typ_imp`` values whose routes are left out, with the code and reason of the report."""

SITE_KIND: dict[str, str] = {"NRO": "NRO", "SRO": "PM", "SROL": "PM", "SROS": "PM"}
"""``st_typelog`` (l_site_type_log) -> node kind; other sites (copper, client...) are not FttH
nodes."""

EBP_KIND: dict[str, str] = {"PBO": "PBO"}
"""``bp_typelog`` -> node kind. A splice closure (BPE) is not an access point for a new link: its
node keeps the role of the chamber or pole it sits in. PTO and DTI are subscriber terminals."""

PTECH_KIND: dict[str, str] = {"C": "chamber", "A": "chamber", "F": "chamber"}
"""``pt_typephy`` -> node kind: chambers, poles (appuis) and facade anchors are the civil works a
new cable is drawn through or hung from; they hold no fibre."""

UPSTREAM_KIND: dict[str, str] = {"PBO": "PM", "PM": "NRO"}
"""The kind of a node's ``parent``: a PBO's fibres go back to a PM, a PM's to an NRO."""

VIRTUAL_CONDUIT = "AER"
"""l_conduite_type AER: the virtual conduit GraceTHD puts on aerial routes; not a sub-duct."""

USED_POSITION_FUNCTIONS = frozenset({"CO", "EP", "PI"})
"""l_position_fonction: a fibre connected, spliced or pigtailed somewhere is in use; AT (attente,
waiting) and PA (passage, uncut) leave it free."""

BROKEN_FIBRE_STATES = frozenset({"HS"})
"""l_etat_type HS (A CHANGER): a fibre in that state cannot be offered."""
