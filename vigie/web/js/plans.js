// The planning page: pick a plan written by `vigie plan`, see its trenches by mode, its masts
// by status and its costs per commune, and download its DQE workbook.
import * as api from "./api.js";
import { baseMap, communes, drawCommunes } from "./map.js";
import { el, euros, number, when, download, toast } from "./util.js";

export async function renderPlans(main, selected) {
  const side = el("section", { class: "planside", "aria-label": "Plan" });
  const mapBox = el("div", { id: "plan-map", role: "region", "aria-label": "Carte du plan" });
  main.append(el("div", { class: "planpage" }, side, mapBox));
  const map = baseMap(mapBox);
  try {
    drawCommunes(map, await communes());
  } catch {
    // the commune layer is a background: the plan is still readable without it
  }
  const plans = await api.json("/api/v1/plans");
  side.append(el("h1", {}, "Plans de raccordement"));
  if (!plans.length) {
    side.append(el("p", { class: "notice" }, "Aucun plan : écrivez-en un avec « vigie plan » dans le dossier des plans."));
    return () => map.remove();
  }
  const picker = el("select", { id: "plan-pick" },
    plans.map((p) => el("option", { value: p.name, disabled: p.error ? true : null },
      p.error ? `${p.name} (illisible)` : `${p.name} — ${when(p.generated_at)}`)));
  const detail = el("div", { id: "plan-detail" });
  side.append(el("label", { for: "plan-pick" }, "Plan "), picker, detail);
  let layers = [];
  let legend = null;

  async function show(name) {
    layers.forEach((layer) => map.removeLayer(layer));
    if (legend) legend.remove();
    const [summary, geo] = await Promise.all([
      api.json(`/api/v1/plans/${encodeURIComponent(name)}`),
      api.json(`/api/v1/plans/${encodeURIComponent(name)}/geojson`),
    ]);
    const colours = geo.legend;
    const trenches = L.geoJSON(geo.trenches, {
      style: (f) => ({ color: (colours.modes[f.properties.mode] || ["#000"])[0], weight: 3,
        dashArray: f.properties.mode === "aerial" ? "6 4" : null }),
    // Tooltips are text nodes: a plan file's values (mast ids, modes) never become HTML.
    }).bindTooltip((l) => el("span", {}, `${(colours.modes[l.feature.properties.mode] || [0, l.feature.properties.mode])[1]} : ${number(l.feature.properties.length_m)} m`));
    const masts = L.geoJSON(geo.masts, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {
        radius: 6, color: "#1a1a1a", weight: 1, fillOpacity: 1,
        fillColor: (colours.status[f.properties.status] || ["#777"])[0],
      }),
    }).bindTooltip((l) => el("span", {}, `Mât ${l.feature.properties.mast_id} : ${(colours.status[l.feature.properties.status] || [0, l.feature.properties.status])[1]}`));
    layers = [trenches.addTo(map), masts.addTo(map)];
    const bounds = masts.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], animate: false });
    legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => el("div", { class: "legend", id: "plan-legend" },
      Object.entries(colours.modes).map(([mode, [colour, label]]) => {
        const swatch = el("span", { class: "swatch" });
        swatch.style.background = colour;
        return el("div", { "data-mode": mode }, swatch, label);
      }),
      Object.entries(colours.status).map(([status, [colour, label]]) => {
        const dot = el("span", { class: "dot" });
        dot.style.background = colour;
        return el("div", { "data-status": status }, dot, `Mât : ${label}`);
      }));
    legend.addTo(map);

    const totals = summary.totals;
    const rows = Object.entries(summary.communes || {})
      .sort((a, b) => b[1].cost_eur - a[1].cost_eur)
      .map(([code, c]) => el("tr", { "data-commune": code },
        el("td", {}, c.nom || code), el("td", { class: "num" }, c.masts), el("td", { class: "num" }, c.cameras),
        el("td", { class: "num" }, euros(c.cost_eur))));
    const dqe = el("button", { type: "button", id: "plan-dqe" }, "Télécharger le DQE (xlsx)");
    dqe.addEventListener("click", async () => {
      try {
        download(await api.blob(`/api/v1/plans/${encodeURIComponent(name)}/dqe.xlsx`,
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), `dqe-${name}.xlsx`);
      } catch (error) {
        toast(`DQE indisponible : ${error.message}`);
      }
    });
    detail.replaceChildren(
      el("p", {}, `${totals.masts} mâts : ${totals.connected} raccordés, ${totals.over_budget} hors bilan optique, ${totals.unreachable} injoignables.`),
      el("p", {}, `Coût du raccordement : ${euros(totals.cost_eur)} HT.`),
      el("table", { id: "plan-lengths" }, el("caption", {}, "Longueurs par mode"),
        Object.entries(totals.length_m_by_mode || {}).map(([mode, metres]) => el("tr", {},
          el("td", {}, (colours.modes[mode] || [0, mode])[1]), el("td", { class: "num" }, `${number(metres)} m`)))),
      dqe,
      el("table", { id: "plan-communes" }, el("caption", {}, "Coûts par commune (HT)"),
        el("thead", {}, el("tr", {}, ["Commune", "Mâts", "Caméras", "Coût"].map((h, i) =>
          el("th", { scope: "col", class: i ? "num" : null }, h)))),
        el("tbody", {}, rows)));
  }

  picker.addEventListener("change", () => show(picker.value).catch((e) => toast(e.message)));
  const first = plans.find((p) => p.name === selected && !p.error) || plans.find((p) => !p.error);
  if (first) {
    picker.value = first.name;
    await show(first.name);
  }
  return () => map.remove();
}
