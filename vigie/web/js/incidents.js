// The incident panel: open incidents, most severe then newest first; operators acknowledge
// them with a comment (the button is not shown to other roles; the API refuses them anyway).
// A cause (a mast, a fibre branch) folds its cameras' incidents under it and draws where the
// fault probably is on the page's map; each incident says which notifications went out.
import * as api from "./api.js";
import { el, causes, when, SEVERITY_LABELS, SEVERITY_RANK, toast } from "./util.js";

export const KIND_LABELS = { mast: "Mât", branch: "Branche fibre" };
const CHANNEL_LABELS = { email: "courriel", sms: "SMS" };
const NOTE_STATUS = {
  pending: "en attente", sent: "envoyée", failed: "échec, nouvel essai prévu", cancelled: "annulée",
};
const CANCEL_REASONS = {
  acknowledged: "incident pris en charge", closed: "incident clos", maintenance: "maintenance",
  suppressed: "rattaché à une cause", recovered: "caméra rétablie",
};
const ROLE_STYLE = {
  cable: { color: "#5c5c5c", weight: 3, opacity: 0.9 },
  suspect: { color: "#c0262d", weight: 7, opacity: 0.95, dashArray: "10 6" },
};
const ELEMENT_TEXT = { splice: "Boîtier d'épissure", node: "Nœud FttH" };

// One line per notification, in French: channel, recipient, level, status, when.
function noteLine(n) {
  const level = `niveau ${n.level}` + (n.round ? `, relance ${n.round}` : "");
  const at = n.sent_at || n.cancelled_at || n.created_at;
  const status = NOTE_STATUS[n.status] || `état non répertorié (« ${n.status} »)`;
  const why = n.cancel_reason ? ` (${CANCEL_REASONS[n.cancel_reason] || n.cancel_reason})` : "";
  return el("li", { "data-notification": n.id, "data-status": n.status },
    `${CHANNEL_LABELS[n.channel] || n.channel} à ${n.name ? `${n.name} (${n.recipient})` : n.recipient}`
    + ` — ${level} — ${status}${why} — ${when(at)}`);
}

export function renderIncidents(box, { cameras, names, canAck, canNotify = false, map = null }) {
  const list = el("ol", { "aria-label": "Incidents ouverts" });
  const heading = el("h2", {}, "Incidents ouverts");
  box.replaceChildren(heading, list);
  const opened = new Set();  // "<kind>-<incident id>" of the <details> left open
  let drawn = null;  // { id, layer }: the cause drawn on the map

  function ackForm(incident, item) {
    const field = el("textarea", {
      id: `ack-${incident.id}`, name: "comment", rows: 2, required: true, maxlength: 2000,
    });
    const form = el("form", { class: "ack" },
      el("label", { for: `ack-${incident.id}` }, "Commentaire (ce qui est fait)"), field,
      el("button", { type: "submit" }, "Valider la prise en charge"), " ",
      el("button", { type: "button", class: "secondary", onclick: () => reload() }, "Annuler"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!field.value.trim()) { field.focus(); return; }
      try {
        await api.json(`/api/v1/incidents/${incident.id}/ack`, {
          method: "POST", body: { comment: field.value.trim() },
        });
        toast("Incident pris en charge");
      } catch (error) {
        toast(`Prise en charge refusée : ${error.message}`);
      }
      await reload();
    });
    item.append(form);
    field.focus();
  }

  // A <details> that remembers being open across the panel's live reloads.
  function details(key, summary, attrs, onOpen) {
    const box = el("details", attrs, el("summary", {}, summary));
    box.addEventListener("toggle", () => {
      if (box.open) { opened.add(key); if (onOpen) onOpen(box); } else opened.delete(key);
    });
    if (opened.has(key)) box.open = true;
    return box;
  }

  function notifications(incident) {
    let loaded = false;
    return details(`notes-${incident.id}`, "Notifications envoyées", { class: "notes" }, async (box) => {
      if (loaded) return;
      loaded = true;
      const body = el("div", { role: "status" }, "Chargement…");
      box.append(body);
      try {
        const notes = await api.json(`/api/v1/incidents/${incident.id}/notifications`);
        body.replaceChildren(notes.length
          ? el("ul", { class: "note-list" }, notes.map(noteLine))
          : el("p", { class: "meta" }, "Aucune notification"));
      } catch (error) {
        loaded = false;
        body.replaceChildren(el("p", { role: "alert" }, `Notifications illisibles : ${error.message}`));
      }
    });
  }

  function folded(incident, children) {
    const count = incident.cameras.length;
    const rows = (children || []).map((c) => {
      const camera = cameras.get(c.camera_id);
      return el("li", { "data-camera": c.camera_id },
        el("a", { href: `#/camera/${encodeURIComponent(c.camera_id)}` }, camera ? camera.name : c.camera_id),
        c.causes && c.causes.length ? ` — ${causes(c.causes)}` : "");
    });
    // A camera the cause holds whose own incident is closed or not listed: still named.
    const listed = new Set((children || []).map((c) => c.camera_id));
    for (const id of incident.cameras) {
      if (listed.has(id)) continue;
      const camera = cameras.get(id);
      rows.push(el("li", { "data-camera": id },
        el("a", { href: `#/camera/${encodeURIComponent(id)}` }, camera ? camera.name : id)));
    }
    const plural = count > 1 ? "s" : "";
    const box = details(`fold-${incident.id}`, `${count} caméra${plural} concernée${plural}`, { class: "folded" });
    box.append(el("ul", {}, rows));
    return box;
  }

  function clearDrawn() {
    if (drawn) { drawn.layer.remove(); drawn = null; }
    for (const b of list.querySelectorAll("button.show-map")) b.setAttribute("aria-pressed", "false");
  }

  async function showOnMap(incident, button) {
    if (drawn && drawn.id === incident.id) { clearDrawn(); return; }
    clearDrawn();
    let collection;
    try {
      collection = await api.json(`/api/v1/incidents/${incident.id}/map`, { accept: "application/geo+json" });
    } catch (error) {
      toast(`Carte de l'incident illisible : ${error.message}`);
      return;
    }
    // Tooltips are text nodes: labels from the plan never become HTML.
    const layer = L.geoJSON(collection, {
      style: (f) => ROLE_STYLE[f.properties.role] || ROLE_STYLE.cable,
      pointToLayer: (f, latlng) => (f.properties.role === "camera"
        ? L.circleMarker(latlng, { radius: 14, color: "#c0262d", weight: 2, fill: false })
        : L.circleMarker(latlng, { radius: 5, color: "#1a1a1a", weight: 1, fillColor: "#ffffff", fillOpacity: 1 })),
      onEachFeature: (f, l) => {
        const p = f.properties;
        const text = p.role === "camera" ? `${p.name} (${p.camera_id})`
          : p.role === "suspect" ? `Tronçon suspect : entre ${p.start} et ${p.end}`
            : p.role === "cable" ? `Câble du mât ${p.mast_id}`
              : `${ELEMENT_TEXT[p.role]} : ${p.label || p.id}`;
        l.bindTooltip(() => el("span", {}, text));
      },
    }).addTo(map);
    layer.eachLayer((l) => {
      const path = l.getElement && l.getElement();
      if (!path) return;
      const p = l.feature.properties;
      path.setAttribute("data-incident", incident.id);
      path.setAttribute("data-role", p.role);
      if (p.mast_id) path.setAttribute("data-mast", p.mast_id);
      if (p.camera_id) path.setAttribute("data-camera-ring", p.camera_id);
      if (p.id) path.setAttribute("data-element", p.id);
    });
    layer.eachLayer((l) => { if (l.feature.properties.role === "suspect") l.bringToFront(); });
    drawn = { id: incident.id, layer };
    button.setAttribute("aria-pressed", "true");
    const bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], animate: false, maxZoom: 17 });
  }

  function entry(incident, children) {
    const camera = cameras.get(incident.camera_id);
    const cause = incident.kind && incident.kind !== "camera";
    const item = el("li", { class: `sev-${incident.severity}`, "data-incident": incident.id, "data-kind": incident.kind || "camera" },
      el("span", { class: `badge sev-${incident.severity}` }, SEVERITY_LABELS[incident.severity] || incident.severity),
      " ",
      cause
        ? [el("span", { class: "badge kind" }, KIND_LABELS[incident.kind] || incident.kind), " ",
          el("strong", { class: "cause" }, incident.cause || "cause probable non précisée")]
        : el("a", { href: `#/camera/${encodeURIComponent(incident.camera_id)}` }, camera ? camera.name : incident.camera_id),
      el("div", {}, causes(incident.causes) || "—"),
      el("div", { class: "meta" }, cause
        ? `${incident.cameras.length} caméra(s) · ouvert le ${when(incident.opened_at)}`
        : `${names.get(incident.commune) || incident.commune} · ouvert le ${when(incident.opened_at)}`));
    if (cause) {
      item.append(folded(incident, children));
      if (map) {
        const button = el("button", {
          type: "button", class: "secondary show-map",
          "aria-pressed": String(Boolean(drawn && drawn.id === incident.id)),
        }, "Voir sur la carte");
        button.addEventListener("click", () => showOnMap(incident, button));
        item.append(button, " ");
      }
    }
    if (canNotify) item.append(notifications(incident));
    if (incident.acknowledged_at) {
      item.append(el("div", { class: "meta ack-by" },
        `Pris en charge par ${incident.acknowledged_by} le ${when(incident.acknowledged_at)} : ${incident.comment || ""}`));
    } else if (canAck) {
      const button = el("button", { type: "button", class: "ack-open" }, "Prendre en charge");
      button.addEventListener("click", () => { button.remove(); ackForm(incident, item); });
      item.append(button);
    }
    return item;
  }

  async function reload({ force = true } = {}) {
    // A live update does not wipe a comment being typed.
    if (!force && list.querySelector("form.ack textarea:focus")) return;
    const page = await api.json("/api/v1/incidents?status=open&limit=500");
    // The camera incidents folded under the causes, only when there is a cause.
    const byCause = new Map();
    if (page.items.some((i) => i.kind && i.kind !== "camera")) {
      const all = await api.json("/api/v1/incidents?status=open&include_suppressed=true&limit=500");
      for (const i of all.items) {
        if (i.suppressed_by === null || i.suppressed_by === undefined) continue;
        if (!byCause.has(i.suppressed_by)) byCause.set(i.suppressed_by, []);
        byCause.get(i.suppressed_by).push(i);
      }
    }
    const items = page.items.sort((a, b) =>
      (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0)
      || b.opened_at.localeCompare(a.opened_at));
    heading.textContent = `Incidents ouverts (${page.total})`;
    list.replaceChildren(...(items.length
      ? items.map((i) => entry(i, byCause.get(i.id)))
      : [el("li", {}, "Aucun incident ouvert")]));
    // A drawn cause that closed leaves the map too.
    if (drawn && !items.some((i) => i.id === drawn.id)) clearDrawn();
  }

  return { reload: () => reload({ force: false }) };
}
