// The incident panel: open incidents, most severe then newest first; operators acknowledge
// them with a comment (the button is not shown to other roles; the API refuses them anyway).
import * as api from "./api.js";
import { el, causes, when, SEVERITY_LABELS, SEVERITY_RANK, toast } from "./util.js";

export function renderIncidents(box, { cameras, names, canAck }) {
  const list = el("ol", { "aria-label": "Incidents ouverts" });
  const heading = el("h2", {}, "Incidents ouverts");
  box.replaceChildren(heading, list);

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

  function entry(incident) {
    const camera = cameras.get(incident.camera_id);
    const item = el("li", { class: `sev-${incident.severity}`, "data-incident": incident.id },
      el("span", { class: `badge sev-${incident.severity}` }, SEVERITY_LABELS[incident.severity] || incident.severity),
      " ",
      el("a", { href: `#/camera/${encodeURIComponent(incident.camera_id)}` }, camera ? camera.name : incident.camera_id),
      el("div", {}, causes(incident.causes) || "—"),
      el("div", { class: "meta" }, `${names.get(incident.commune) || incident.commune} · ouvert le ${when(incident.opened_at)}`));
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
    const items = page.items.sort((a, b) =>
      (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0)
      || b.opened_at.localeCompare(a.opened_at));
    heading.textContent = `Incidents ouverts (${page.total})`;
    list.replaceChildren(...(items.length ? items.map(entry) : [el("li", {}, "Aucun incident ouvert")]));
  }

  return { reload: () => reload({ force: false }) };
}
