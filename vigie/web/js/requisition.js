// The register page's point query, « Qui voit ce lieu ? »: the gendarmerie (or an operator, a
// commune) places a point and a period, gives the reason the law asks for, and gets the cameras
// whose field of view held the point, their states, authorisations and retention (README: Legal
// register). The request is audited by the server with its reason.
import * as api from "./api.js";
import { el, parisIso, duration, when } from "./util.js";

export const ASKERS = ["admin", "operator", "gendarmerie", "commune"];
const MIN_REASON = 10;  // the API's minimum (vigie/routes/register.py)
const MAX_DAYS = 31;
const SEEN = "#b35900";
const DATE = new Intl.DateTimeFormat("fr-FR", { timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric" });

function frenchDate(iso) {
  return iso ? DATE.format(new Date(`${iso}T00:00:00Z`)) : "—";
}

function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

function field(id, label, attrs) {
  return [el("label", { for: id }, label), el("input", { id, name: id, ...attrs })];
}

function cameraItem(camera) {
  const authorisations = camera.authorisations.length
    ? camera.authorisations.map((a) =>
      `n° ${a.number} (jusqu'au ${frenchDate(a.ends_on)}, conservation ${a.retention_days} jours`
      + `${a.in_force ? "" : ", hors vigueur sur la période"})`).join(" ; ")
    : "aucune autorisation";
  return el("li", { "data-camera": camera.camera_id },
    el("strong", {}, camera.name), ` (${camera.camera_id})`,
    el("ul", {}, camera.states.map((s) => el("li", { "data-state": s.state },
      `${capital(s.label)} : ${duration(s.seconds)} (du ${when(s.start)} au ${when(s.end)})`))),
    el("div", {}, `Autorisation(s) : ${authorisations}`),
    el("div", { "data-retention": camera.retention.code }, `Conservation : ${camera.retention.label}`));
}

// ``sectors``: the page's field-of-view layer, whose paths carry data-camera.
export function renderRequisition(side, map, sectors) {
  const [latLabel, lat] = field("q-lat", "Latitude (WGS84)", { type: "number", step: "any", min: -90, max: 90, required: true });
  const [lonLabel, lon] = field("q-lon", "Longitude (WGS84)", { type: "number", step: "any", min: -180, max: 180, required: true });
  const [startLabel, start] = field("q-start", "Début (heure de Paris)", { type: "datetime-local", required: true });
  const [endLabel, end] = field("q-end", "Fin (heure de Paris)", { type: "datetime-local", required: true });
  const [reasonLabel, reason] = field("q-reason", `Motif (procédure, au moins ${MIN_REASON} caractères)`,
    { type: "text", required: true, minlength: MIN_REASON, maxlength: 500 });
  const [refLabel, reference] = field("q-reference", "Référence de la réquisition", { type: "text", maxlength: 100 });
  const [whoLabel, requester] = field("q-requester", "Demandeur (OPJ, unité)", { type: "text", maxlength: 200 });
  const problem = el("p", { role: "alert", class: "form-error", id: "query-error" });
  const answer = el("div", { id: "query-answer", "aria-live": "polite" });
  const form = el("form", { id: "point-query", "aria-labelledby": "point-query-title", novalidate: true },
    el("h2", { id: "point-query-title" }, "Qui voit ce lieu ?"),
    el("p", { class: "meta" }, "Cliquez sur la carte pour placer le point, ou saisissez ses coordonnées."),
    latLabel, lat, lonLabel, lon, startLabel, start, endLabel, end, reasonLabel, reason,
    refLabel, reference, whoLabel, requester, problem,
    el("button", { type: "submit" }, "Rechercher les caméras"));
  side.append(form, answer);

  let point = null;
  function place(latitude, longitude) {
    if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return;
    if (!point) {
      point = L.circleMarker([latitude, longitude], { radius: 8, color: "#1a1a1a", weight: 3, fillColor: "#ffd400", fillOpacity: 1 }).addTo(map);
      point.getElement().setAttribute("data-point", "requisition");
    } else {
      point.setLatLng([latitude, longitude]);
    }
  }
  map.on("click", (event) => {
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
    place(event.latlng.lat, event.latlng.lng);
  });
  for (const input of [lat, lon]) {
    input.addEventListener("change", () => place(parseFloat(lat.value), parseFloat(lon.value)));
  }

  function highlight(ids) {
    sectors.eachLayer((l) => {
      const seen = ids.has(l.feature.properties.camera_id);
      const path = l.getElement && l.getElement();
      if (path) path.setAttribute("data-seen", String(seen));
      sectors.resetStyle(l);
      if (seen) l.setStyle({ color: SEEN, weight: 5, fillOpacity: 0.45 });
    });
  }

  function check() {
    const latitude = parseFloat(lat.value);
    const longitude = parseFloat(lon.value);
    if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
      return ["Placez le point sur la carte ou saisissez sa latitude et sa longitude.", lat];
    }
    if (!start.value || !end.value) return ["Indiquez le début et la fin de la période.", start.value ? end : start];
    const from = Date.parse(parisIso(start.value));
    const to = Date.parse(parisIso(end.value));
    if (to <= from) return ["La fin de la période doit suivre son début.", end];
    if (to - from > MAX_DAYS * 86400000) return [`La période dépasse ${MAX_DAYS} jours : demandez-la en plusieurs fois.`, end];
    if (reason.value.trim().length < MIN_REASON) return [`Le motif doit compter au moins ${MIN_REASON} caractères.`, reason];
    return null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const wrong = check();
    if (wrong) { problem.textContent = wrong[0]; wrong[1].focus(); return; }
    const body = {
      latitude: parseFloat(lat.value), longitude: parseFloat(lon.value),
      start: parisIso(start.value), end: parisIso(end.value), reason: reason.value.trim(),
      reference: reference.value.trim(), requester: requester.value.trim(),
    };
    place(body.latitude, body.longitude);
    map.panTo([body.latitude, body.longitude], { animate: false });
    let result;
    try {
      result = await api.json("/api/v1/register/requisitions", { method: "POST", body });
    } catch (error) {
      problem.textContent = `Demande refusée : ${error.message}.`;
      return;
    }
    highlight(new Set(result.cameras.map((c) => c.camera_id)));
    const parts = [el("h3", {}, `Caméras dont le champ de vision couvre ce lieu : ${result.cameras.length}`),
      el("p", { class: "meta" }, `Du ${when(result.start)} au ${when(result.end)}.`)];
    if (result.cameras.length) parts.push(el("ul", { id: "query-cameras" }, result.cameras.map(cameraItem)));
    if (result.unplaced.length) {
      parts.push(el("h3", {}, "Caméras proches sans champ de vision renseigné"),
        el("ul", { id: "query-unplaced" }, result.unplaced.map((id) => el("li", { "data-camera": id }, id))));
    }
    parts.push(el("p", { class: "meta" }, "Vigie ne détient aucun enregistrement : cette réponse dit où chercher. Demande tracée avec son motif."));
    answer.replaceChildren(...parts);
  });
}
