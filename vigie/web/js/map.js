// The map page: commune boundaries, cameras coloured and shaped by state, grouped when zoomed
// out (a group shows its count, its worst state and how many cameras are in each state), filters,
// the incident panel; and the large-screen mode.
import * as api from "./api.js";
import * as auth from "./auth.js";
import { Live } from "./live.js";
import { renderIncidents } from "./incidents.js";
import {
  el, marker, causes, when, number, STATES, STATE_LABELS, STATE_LETTERS, STATE_RANK, toast,
} from "./util.js";

let communesCache = null;

export async function communes() {
  if (!communesCache) communesCache = await api.json("/api/v1/communes");
  return communesCache;
}

// The communes depend on the user's scope: a new user must not get the previous one's.
export function forgetCommunes() {
  communesCache = null;
}

export function baseMap(container, { controls = true } = {}) {
  const map = L.map(container, {
    zoomControl: controls, keyboard: true, attributionControl: false, minZoom: 6, maxZoom: 18,
    zoomSnap: 0.25, fadeAnimation: false,
  });
  const tiles = document.querySelector('meta[name="vigie-tiles"]').content;
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  map.setView([49.1, 1.15], 9);
  return map;
}

export function drawCommunes(map, collection) {
  const layer = L.geoJSON(collection, {
    style: { color: "#4d4d4d", weight: 1, fillColor: "#ffffff", fillOpacity: 0.35 },
    interactive: false,
  }).addTo(map);
  const bounds = layer.getBounds();  // invalid when no commune of the scope has a boundary
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10], animate: false });
  return layer;
}

// Worst first: the order of a group's ring and breakdown, and of markers drawn on top.
const BY_SEVERITY = [...STATES].sort((a, b) => STATE_RANK[b] - STATE_RANK[a]);
// French for "N cameras in this state", singular and plural.
const COUNT_LABELS = {
  up: ["en service", "en service"], degraded: ["dégradée", "dégradées"],
  down: ["hors service", "hors service"], maintenance: ["en maintenance", "en maintenance"],
  unknown: ["d'état inconnu", "d'état inconnu"],
};
const MIN_ARC = 0.06;  // a single degraded camera among 500 must still show in the ring

function stateCounts(cluster) {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const m of cluster.getAllChildMarkers()) counts[m.options.state] += 1;
  return counts;
}

export function breakdownText(counts) {
  const parts = BY_SEVERITY.filter((s) => counts[s])
    .map((s) => `${number(counts[s])} ${COUNT_LABELS[s][counts[s] > 1 ? 1 : 0]}`);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return `${number(total)} caméras : ${parts.join(", ")}`;
}

// The ring: one arc per state present, worst first from the top, each at least MIN_ARC wide.
function ringGradient(counts) {
  const present = BY_SEVERITY.filter((s) => counts[s]);
  const total = present.reduce((a, s) => a + counts[s], 0);
  const shares = present.map((s) => Math.max(counts[s] / total, MIN_ARC));
  const sum = shares.reduce((a, b) => a + b, 0);
  let start = 0;
  const stops = present.map((s, i) => {
    const end = start + (shares[i] / sum) * 100;
    const stop = `var(--${s}) ${start.toFixed(2)}% ${end.toFixed(2)}%`;
    start = end;
    return stop;
  });
  return `conic-gradient(${stops.join(", ")})`;
}

// The diameter grows with the label, so the count and the letter under it stay inside the
// disc: the label's diagonal (bold 13 px: about 9 px a digit, 4 px a thousands space, 26 px
// high), plus the 4 px ring, the 2 px white border and 1 px to spare on each side.
export function clusterSize(count) {
  const label = number(count);
  const width = 9 * label.replace(/\D/g, "").length + 4 * label.replace(/\d/g, "").length;
  return Math.ceil(2 * Math.hypot(width / 2, 13) + 2 * (4 + 2 + 1));
}

const clusterOwners = new WeakMap();  // icon content -> its cluster, for the focus tooltip

function clusterIcon(cluster) {
  const counts = stateCounts(cluster);
  const worst = BY_SEVERITY.find((s) => counts[s]) || "unknown";
  const count = cluster.getChildCount();
  const size = clusterSize(count);
  const ring = el("span", { class: "ring" });
  ring.style.background = ringGradient(counts);
  const html = el("span", { class: "inner", role: "img", "aria-label": breakdownText(counts) },
    ring, el("span", { class: "core", "aria-hidden": "true" },
      el("b", { class: "label" }, number(count)), el("small", {}, STATE_LETTERS[worst])));
  clusterOwners.set(html, cluster);
  return L.divIcon({
    className: `cluster worst-${worst}`, html, iconSize: [size, size],
  });
}

function breakdown(cluster) {
  const counts = stateCounts(cluster);
  return el("div", { class: "breakdown" },
    BY_SEVERITY.filter((s) => counts[s]).map((s) => el("div", { "data-state": s },
      marker(s), el("span", { class: "count" }, `${number(counts[s])} ${COUNT_LABELS[s][counts[s] > 1 ? 1 : 0]}`))));
}

export async function renderMap(main, { wall = false } = {}) {
  const cameras = new Map();  // camera_id -> status item
  const markers = new Map();  // camera_id -> Leaflet marker
  const names = new Map();    // INSEE code -> commune name
  const filters = { states: new Set(STATES), commune: "", epci: "", cluster: true };

  const mapBox = el("div", { id: "map", role: "region", "aria-label": "Carte des caméras" });
  const shown = el("p", { role: "status" });
  const filterBox = el("form", { class: "filters", "aria-label": "Filtres" });
  const incidentBox = el("section", { class: "incidents", "aria-label": "Incidents ouverts" });
  const counts = el("div", { class: "counts", role: "status", "aria-live": "polite" });
  const ticker = el("div", { class: "ticker", "aria-label": "Incidents ouverts" });
  if (wall) {
    document.body.classList.add("mur");
    const exit = el("button", { type: "button", class: "exit secondary" }, "Quitter le mode mur");
    exit.addEventListener("click", () => { location.href = "/#/carte"; });
    main.append(el("div", { class: "wall" }, counts, mapBox, ticker, exit));
  } else {
    const toWall = el("a", { href: "/?mur" }, "Mode mur d'images");
    main.append(el("div", { class: "mapwrap" }, filterBox, mapBox, incidentBox));
    filterBox.append(toWall);
  }

  const map = baseMap(mapBox, { controls: !wall });
  const group = L.markerClusterGroup({
    iconCreateFunction: clusterIcon, showCoverageOnHover: false, maxClusterRadius: 50,
    animate: false,
  });
  map.addLayer(group);
  const plain = L.layerGroup();

  // A group's count per state, on hover and on keyboard focus.
  const tip = L.tooltip({ direction: "top", className: "cluster-tip" });
  function showBreakdown(cluster) {
    tip.options.offset = [0, -clusterSize(cluster.getChildCount()) / 2];
    tip.setLatLng(cluster.getLatLng()).setContent(breakdown(cluster));
    map.openTooltip(tip);
  }
  group.on("clustermouseover", (e) => showBreakdown(e.layer));
  group.on("clustermouseout", () => map.closeTooltip(tip));
  mapBox.addEventListener("focusin", (e) => {
    const cluster = e.target.classList.contains("cluster") && clusterOwners.get(e.target.firstElementChild);
    if (cluster) showBreakdown(cluster);
  });
  mapBox.addEventListener("focusout", () => map.closeTooltip(tip));

  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => el("div", { class: "legend" },
    STATES.map((s) => el("div", {}, marker(s), STATE_LABELS[s])));
  legend.addTo(map);

  function visible(item) {
    return filters.states.has(item.state)
      && (!filters.commune || item.commune === filters.commune)
      && (!filters.epci || item.epci === filters.epci);
  }

  function popup(item) {
    return el("div", {},
      el("strong", {}, item.name), el("br"),
      `${names.get(item.commune) || item.commune} — ${STATE_LABELS[item.state]}`,
      item.causes.length ? el("div", {}, `Causes : ${causes(item.causes)}`) : null,
      el("div", {}, `Depuis : ${when(item.since)}`),
      el("a", { href: `#/camera/${encodeURIComponent(item.camera_id)}` }, "Fiche de la caméra"));
  }

  function makeMarker(item) {
    const m = L.marker([item.latitude, item.longitude], {
      state: item.state,
      zIndexOffset: 1000 * STATE_RANK[item.state],  // the worst state on top on a shared mast
      title: `${item.name} : ${STATE_LABELS[item.state]}`,
      alt: `${item.name} : ${STATE_LABELS[item.state]}`,
      icon: L.divIcon({
        className: `cam cam-${item.state}`,
        html: el("span", {}, STATE_LETTERS[item.state]),
        iconSize: [22, 22],
      }),
    });
    m.bindPopup(() => popup(cameras.get(item.camera_id)));
    m.on("add", () => {
      const icon = m.getElement();
      if (icon) { icon.dataset.camera = item.camera_id; icon.dataset.state = item.state; }
    });
    return m;
  }

  function redraw() {
    group.clearLayers();
    plain.clearLayers();
    markers.clear();
    const list = [...cameras.values()].filter(visible);
    for (const item of list) markers.set(item.camera_id, makeMarker(item));
    if (filters.cluster) {
      map.removeLayer(plain);
      map.addLayer(group);
      group.addLayers([...markers.values()]);
    } else {
      map.removeLayer(group);
      map.addLayer(plain);
      markers.forEach((m) => plain.addLayer(m));
    }
    shown.textContent = `${list.length} caméra(s) affichée(s) sur ${cameras.size}`;
    updateCounts();
  }

  // One camera changed: move only its marker (a full redraw of 5,000 markers per event would
  // not keep up with a burst of events).
  function update(item) {
    const layer = filters.cluster ? group : plain;
    const old = markers.get(item.camera_id);
    if (old) {
      layer.removeLayer(old);
      markers.delete(item.camera_id);
    }
    if (visible(item)) {
      const m = makeMarker(item);
      markers.set(item.camera_id, m);
      layer.addLayer(m);
    }
    shown.textContent = `${markers.size} caméra(s) affichée(s) sur ${cameras.size}`;
    updateCounts();
  }

  function updateCounts() {
    const totals = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const item of cameras.values()) totals[item.state] += 1;
    counts.replaceChildren(...STATES.map((s) => el("div", { class: "count", "data-state": s },
      marker(s), el("b", {}, totals[s]), el("small", {}, STATE_LABELS[s]))));
  }

  let incidentsView = null;
  let fillFilters = () => {};
  async function loadIncidents() {
    if (wall) {
      const page = await api.json("/api/v1/incidents?status=open&limit=100");
      const items = page.items.slice(0, 20);
      ticker.replaceChildren(el("div", { class: "track" }, ...(items.length ? items.map((i) => el("span", {},
        `${cameras.get(i.camera_id)?.name || i.camera_id} (${names.get(i.commune) || i.commune}) : `
        + `${causes(i.causes)} depuis ${when(i.opened_at)}`)) : [el("span", {}, "Aucun incident ouvert")])));
    } else if (incidentsView) {
      await incidentsView.reload();
    }
  }

  let pending = null;
  function soon(task) {
    clearTimeout(pending);
    pending = setTimeout(() => task().catch(() => {}), 300);
  }

  const live = new Live({
    snapshot(items) {
      cameras.clear();
      for (const item of items) cameras.set(item.camera_id, item);
      fillFilters();
      redraw();
      soon(loadIncidents);
    },
    event(event) {
      if (event.type === "state_changed") {
        const item = cameras.get(event.camera_id);
        if (!item) return;
        Object.assign(item, { state: event.state, causes: event.causes || [], since: event.at });
        update(item);
      } else if (String(event.type).startsWith("incident_")) {
        soon(loadIncidents);
      }
    },
    status(text) { document.getElementById("live-state").textContent = text; },
  });

  const collection = await communes();
  for (const f of collection.features) names.set(f.properties.code, f.properties.nom);
  drawCommunes(map, collection);

  if (!wall) {
    const stateBox = el("fieldset", {}, el("legend", {}, "États"),
      STATES.map((s) => el("label", {},
        el("input", { type: "checkbox", name: "state", value: s, checked: true }), marker(s), " ", STATE_LABELS[s])));
    const communeSelect = el("select", { id: "f-commune", name: "commune" });
    const epciSelect = el("select", { id: "f-epci", name: "epci" });
    const epciNames = new Map();
    for (const f of collection.features) {
      if (f.properties.epci) epciNames.set(f.properties.epci, f.properties.epci_nom || f.properties.epci);
    }
    // The choices are the communes and intercommunalities that have cameras.
    fillFilters = () => {
      const codes = new Set([...cameras.values()].map((c) => c.commune));
      const sirens = new Set([...cameras.values()].map((c) => c.epci).filter(Boolean));
      const option = (value, label, selected) => el("option", { value, selected: value === selected }, label);
      communeSelect.replaceChildren(option("", "Toutes", filters.commune),
        ...[...codes].map((code) => [code, names.get(code) || code])
          .sort((a, b) => a[1].localeCompare(b[1], "fr"))
          .map(([code, label]) => option(code, label, filters.commune)));
      epciSelect.replaceChildren(option("", "Toutes", filters.epci),
        ...[...sirens].map((siren) => [siren, epciNames.get(siren) || siren])
          .sort((a, b) => a[1].localeCompare(b[1], "fr"))
          .map(([siren, label]) => option(siren, label, filters.epci)));
    };
    const clusterBox = el("label", {},
      el("input", { type: "checkbox", name: "cluster", checked: true }), " Regrouper les caméras proches");
    filterBox.prepend(el("h1", {}, "Carte"), shown, stateBox,
      el("label", { for: "f-commune" }, "Commune"), communeSelect,
      el("label", { for: "f-epci" }, "Intercommunalité"), epciSelect,
      el("p", {}, clusterBox));
    filterBox.addEventListener("change", () => {
      filters.states = new Set([...filterBox.querySelectorAll("input[name=state]:checked")].map((i) => i.value));
      filters.commune = communeSelect.value;
      filters.epci = epciSelect.value;
      filters.cluster = filterBox.querySelector("input[name=cluster]").checked;
      redraw();
    });
    filterBox.addEventListener("submit", (e) => e.preventDefault());
    incidentsView = renderIncidents(incidentBox, {
      cameras, names, map, canAck: auth.role() === "operator",
      // the notifications sent are the admin's and operators' record (the API refuses others)
      canNotify: ["admin", "operator"].includes(auth.role()),
    });
  }

  live.start();
  window.vigieMap = { map, group, plain, markers, cameras, filters, redraw, update, live };
  return () => {
    live.stop();
    clearTimeout(pending);
    document.body.classList.remove("mur");
    map.stop();
    map.remove();
    delete window.vigieMap;
  };
}

export { toast };
