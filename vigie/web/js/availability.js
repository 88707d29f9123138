// The availability report: a local month, per camera, commune, intercommunality and in all;
// the same figures as CSV for a spreadsheet.
import * as api from "./api.js";
import { communes } from "./map.js";
import { el, number, download, toast } from "./util.js";

const LEVELS = { all: "Ensemble", epci: "Intercommunalité", commune: "Commune", camera: "Caméra" };

function thisMonth() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit" })
    .formatToParts(new Date());
  return `${parts.find((p) => p.type === "year").value}-${parts.find((p) => p.type === "month").value}`;
}

function hours(seconds) {
  return seconds ? `${number(seconds / 3600, 1)} h` : "0 h";
}

// "6 déc. 2026 22:30", in Paris time.
const DAY = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "numeric", month: "short", year: "numeric" });
const TIME = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });
function moment(iso) {
  const date = new Date(iso);
  return `${DAY.format(date)} ${TIME.format(date)}`;
}

// How much of the month the figures cover: the service never counts time still to come.
export function observedText(report) {
  const share = report.elapsed_share;
  if (share >= 1) return `Mois terminé : ${number(report.elapsed_s / 3600, 0)} h observées (100 % du mois).`;
  if (share <= 0) return "Mois à venir : rien n'est encore observé (0 % du mois).";
  // Rounded down, so that a month in progress never shows 100 %.
  const percent = number(Math.floor(share * 1000) / 10, 1);
  return `Observé jusqu'au ${moment(report.observed_until)} (${percent} % du mois) ; la suite du mois n'est pas comptée.`;
}

export async function renderAvailability(main) {
  const month = el("input", { id: "av-month", type: "month", value: thisMonth(), required: true });
  const level = el("select", { id: "av-level" },
    el("option", { value: "" }, "Tous"),
    Object.entries(LEVELS).map(([k, v]) => el("option", { value: k }, v)));
  const body = el("tbody");
  const table = el("table", { id: "availability" },
    el("caption", {}, "Disponibilité du mois (heure de Paris)"),
    el("thead", {}, el("tr", {}, ["Niveau", "Élément", "Disponibilité", "En service", "Dégradée",
      "Hors service", "Maintenance", "Inconnu"].map((h, i) => el("th", { class: i > 1 ? "num" : null, scope: "col" }, h)))),
    body);
  const csv = el("button", { type: "button", id: "av-csv" }, "Exporter en CSV");
  const form = el("form", {},
    el("label", { for: "av-month" }, "Mois "), month, " ",
    el("label", { for: "av-level" }, "Niveau "), level, " ",
    el("button", { type: "submit" }, "Afficher"), " ", csv);
  const observed = el("p", { id: "av-observed", role: "status" });
  const page = el("div", { class: "page" }, el("h1", {}, "Rapport de disponibilité"), form, observed, table);
  main.append(page);

  function query(format) {
    const q = new URLSearchParams({ month: month.value });
    if (level.value) q.append("level", level.value);
    if (format) q.append("format", format);
    if (format === "csv") q.append("lang", "fr"); // a French spreadsheet opens it as is
    return `/api/v1/availability?${q}`;
  }

  // Names for the keys: cameras from the status, communes and intercommunalities from the map's
  // referential; a key without a name is shown as is.
  const labels = { camera: new Map(), commune: new Map(), epci: new Map(), all: new Map([["all", "Toutes les caméras"]]) };
  await Promise.all([
    api.json("/api/v1/status").then((items) => items.forEach((c) => labels.camera.set(c.camera_id, c.name))),
    communes().then((collection) => collection.features.forEach((f) => {
      labels.commune.set(f.properties.code, f.properties.nom);
      if (f.properties.epci_nom) labels.epci.set(f.properties.epci, f.properties.epci_nom);
    })),
  ].map((p) => p.catch(() => {})));
  const label = (r) => {
    const name = labels[r.level] && labels[r.level].get(r.key);
    return name && name !== r.key ? `${name} (${r.key})` : r.key;
  };

  async function show() {
    try {
      const report = await api.json(query());
      observed.textContent = observedText(report);
      body.replaceChildren(...report.rows.map((r) => el("tr", {},
        el("td", {}, LEVELS[r.level] || r.level), el("td", { "data-key": r.key }, label(r)),
        el("td", { class: "num" }, r.ratio === null ? "non observée" : `${number(r.ratio * 100, 2)} %`),
        ["up_s", "degraded_s", "down_s", "maintenance_s", "unknown_s"].map((k) => el("td", { class: "num" }, hours(r[k]))))));
    } catch (error) {
      toast(`Rapport indisponible : ${error.message}`);
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  csv.addEventListener("click", async () => {
    try {
      download(await api.blob(query("csv"), "text/csv"), `disponibilite-${month.value}.csv`);
    } catch (error) {
      toast(`Export impossible : ${error.message}`);
    }
  });
  await show();
  return () => {};
}
