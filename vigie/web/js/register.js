// The legal register's page: each camera's field of view on the map (solid when an
// authorisation is in force, dashed red when not), the register's alerts, in French, and for
// those who may ask, the point query « Qui voit ce lieu ? » (requisition.js).
import * as api from "./api.js";
import * as auth from "./auth.js";
import { ASKERS, renderRequisition } from "./requisition.js";
import { baseMap, communes, drawCommunes } from "./map.js";
import { el, STATE_LABELS } from "./util.js";

const DATE = new Intl.DateTimeFormat("fr-FR", { timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric" });
const AUTHORISED = "#1f5fbf";
const UNAUTHORISED = "#c0262d";

function frenchDate(iso) {
  return iso ? DATE.format(new Date(`${iso}T00:00:00Z`)) : "—";
}

function sectorText(p) {
  const authorisation = p.authorisation
    ? `autorisation n° ${p.authorisation} jusqu'au ${frenchDate(p.authorisation_ends_on)}`
    : "aucune autorisation";
  return `${p.name} (${p.camera_id}) — ${STATE_LABELS[p.state] || p.state} — ${authorisation}`
    + (p.authorised ? "" : " — sans autorisation valide");
}

export async function renderRegister(main) {
  // Focusable: a long list of alerts scrolls, and the keyboard must reach it.
  const side = el("section", { class: "planside", "aria-label": "Registre", tabindex: "0" });
  const mapBox = el("div", { id: "register-map", role: "region", "aria-label": "Carte des champs de vision" });
  main.append(el("div", { class: "planpage" }, side, mapBox));
  const map = baseMap(mapBox);
  try {
    drawCommunes(map, await communes());
  } catch {
    // the commune layer is a background: the sectors are still readable without it
  }
  const [layer, alerts] = await Promise.all([
    api.json("/api/v1/register/fov.geojson", { accept: "application/geo+json" }),
    api.json("/api/v1/register/alerts"),
  ]);
  // Tooltips are text nodes: camera names from the inventory never become HTML.
  const sectors = L.geoJSON(layer, {
    style: (f) => ({
      color: f.properties.authorised ? AUTHORISED : UNAUTHORISED, weight: 2, fillOpacity: 0.2,
      dashArray: f.properties.authorised ? null : "6 4",
    }),
  }).bindTooltip((l) => el("span", {}, sectorText(l.feature.properties)));
  sectors.addTo(map);
  sectors.eachLayer((l) => {
    const path = l.getElement && l.getElement();
    if (path) {
      path.setAttribute("data-camera", l.feature.properties.camera_id);
      path.setAttribute("data-authorised", String(l.feature.properties.authorised));
    }
  });
  const bounds = sectors.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], animate: false, maxZoom: 17 });
  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => {
    const ok = el("span", { class: "swatch" });
    ok.style.background = AUTHORISED;
    const ko = el("span", { class: "swatch" });
    ko.style.background = UNAUTHORISED;
    return el("div", { class: "legend", id: "register-legend" },
      el("div", {}, ok, "Champ de vision, autorisation en vigueur"),
      el("div", {}, ko, "Champ de vision sans autorisation valide (pointillés)"));
  };
  legend.addTo(map);

  side.append(el("h1", {}, "Registre des autorisations"),
    el("p", {}, `${layer.features.length} champ(s) de vision renseigné(s).`),
    el("h2", {}, `Alertes (fin d'autorisation à moins de ${alerts.months} mois, caméras sans autorisation valide)`));
  if (!alerts.alerts.length) {
    side.append(el("p", { id: "register-alerts", class: "notice" }, "Aucune alerte."));
  } else {
    side.append(el("ul", { id: "register-alerts" }, alerts.alerts.map((a) =>
      el("li", { "data-camera": a.camera_id, "data-code": a.code },
        el("strong", {}, a.label), " — ", a.message))));
  }
  if (ASKERS.includes(auth.role())) renderRequisition(side, map, sectors);
  return () => map.remove();
}
