// A camera's page: state, latest checks and picture problems, availability over 30 days, how the
// supervisor talks to the camera (authentication, clock, media, unsupported calls), and
// the last snapshot on demand, after the viewer gives a reason (kept in the audit trail).
import * as api from "./api.js";
import * as auth from "./auth.js";
import {
  el, cause, causes, errorLabel, when, stateBadge, day, number, toast, CHECK_LABELS,
} from "./util.js";

const DAYS = 30;
// The route admits the two services that watch the public way (README: How vigie serve supervises).
const SNAPSHOT_ROLES = ["operator", "gendarmerie"];
const REASON_MIN = 10;  // the server refuses shorter reasons

const YMD = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
});
const OFFSET = new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Paris", timeZoneName: "longOffset" });
// The chart's legend: the hovered day in full, in French.
const LONG_DAY = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "Europe/Paris", weekday: "short", day: "numeric", month: "long", year: "numeric",
});

function parisMidnight(date) {
  // The start of ``date``'s calendar day in Paris, as an instant.
  const utc = Date.parse(`${YMD.format(date)}T00:00:00Z`);
  const name = OFFSET.formatToParts(new Date(utc)).find((p) => p.type === "timeZoneName").value;
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
  const minutes = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return new Date(utc - minutes * 60000);
}

async function availabilityDays(camera) {
  const now = new Date();
  const days = [];
  for (let i = DAYS - 1; i >= 0; i -= 1) {
    const start = parisMidnight(new Date(now.getTime() - i * 86400000));
    const end = i === 0 ? now : parisMidnight(new Date(start.getTime() + 36 * 3600000));
    days.push([start, end]);
  }
  const rows = await Promise.all(days.map(([start, end]) => {
    const query = new URLSearchParams({
      start: start.toISOString(), end: end.toISOString(), level: "camera", commune: camera.commune,
    });
    return api.json(`/api/v1/availability?${query}`)
      .then((body) => body.rows.find((r) => r.key === camera.camera_id) || null);
  }));
  return { days: days.map(([start]) => start), rows };
}

function chart(box, { days, rows }) {
  const xs = days.map((d) => d.getTime() / 1000);
  const ratio = rows.map((r) => (r && r.observed && r.ratio !== null ? Math.round(r.ratio * 1000) / 10 : null));
  const width = Math.max(600, Math.min(900, box.clientWidth || 800));
  // uPlot draws on a canvas: the same figures are given as a table for screen readers.
  new uPlot({
    width, height: 260,
    scales: { x: { time: true }, y: { range: [0, 100] } },
    // uPlot's own labels and formats are English ("Time", 3/2/26, 99.5): every one is set here.
    axes: [{ values: (u, ticks) => ticks.map((t) => day(new Date(t * 1000))) },
      { label: "Disponibilité (%)", values: (u, ticks) => ticks.map((t) => number(t)) }],
    series: [
      { label: "Jour", value: (u, t) => (t === null ? "—" : LONG_DAY.format(new Date(t * 1000))) },
      { label: "Disponibilité", stroke: "#1b7a3a", fill: "rgba(27,122,58,0.15)", width: 2, spanGaps: false,
        value: (u, v) => (v === null || v === undefined ? "non observée" : `${number(v, 1)} %`) },
    ],
  }, [xs, ratio], box);
  const table = el("table", { class: "sr-table" },
    el("caption", {}, "Disponibilité par jour"),
    el("tr", {}, el("th", {}, "Jour"), el("th", { class: "num" }, "Disponibilité")),
    days.map((d, i) => el("tr", {}, el("td", {}, day(d)),
      el("td", { class: "num" }, ratio[i] === null ? "non observée" : `${number(ratio[i], 1)} %`))));
  box.append(el("details", {}, el("summary", {}, "Voir les valeurs"), table));
  return ratio;
}

function snapshotPanel(camera) {
  const box = el("section", { class: "snapshot", "aria-label": "Dernière image" }, el("h2", {}, "Dernière image"));
  if (!SNAPSHOT_ROLES.includes(auth.role())) return null;
  const reason = el("input", { id: "snap-reason", name: "reason", minlength: REASON_MIN, maxlength: 500, required: true, size: 40 });
  const message = el("p", { role: "status" });
  // Two buttons, one call: the last stored picture (Enter in the reason field) or a new one
  // taken by the camera now ("fresh": true).
  const form = el("form", {},
    el("label", { for: "snap-reason" }, "Motif de la consultation (obligatoire, tracé) "), reason, " ",
    el("button", { type: "submit", name: "fresh", value: "no" }, "Voir la dernière image"), " ",
    el("button", { type: "submit", name: "fresh", value: "yes", class: "secondary", id: "snap-fresh" },
      "Prendre une image maintenant"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fresh = event.submitter?.value === "yes";
    if (reason.value.trim().length < REASON_MIN) {
      message.textContent = `Indiquez un motif d'au moins ${REASON_MIN} caractères.`;
      return;
    }
    message.textContent = fresh ? "Demande d'une image à la caméra…" : "Demande en cours…";
    try {
      const response = await api.request(`/api/v1/cameras/${encodeURIComponent(camera.camera_id)}/snapshot`,
        { method: "POST", body: { reason: reason.value.trim(), fresh }, accept: "image/jpeg, image/*" });
      const taken = response.headers.get("X-Snapshot-Time");
      const url = URL.createObjectURL(await response.blob());
      box.querySelector("img")?.remove();
      box.append(el("img", { src: url, alt: `Dernière image de ${camera.name}` }));
      message.textContent = `Image prise le ${when(taken || new Date().toISOString())}.`;
    } catch (error) {
      message.textContent = {
        404: "Aucune image n'a encore été prise pour cette caméra.",
        502: "La caméra ne répond pas : pas d'image fraîche.",
        // The server's reasons are in English: say its rule in French instead.
        422: `Motif refusé : écrivez un vrai motif, d'au moins ${REASON_MIN} caractères.`,
      }[error.status] || `Image indisponible (erreur ${error.status || "réseau"}).`;
    }
  });
  box.append(form, message);
  return box;
}

// How the supervisor talks to the camera (``interop`` of a full check, supervision/probes.py):
// the first three keys always, then one key per call the camera does not support, with why.
const AUTH_LABELS = {
  "ws-security": "WS-Security (jeton UsernameToken)",
  "ws-security+http-digest": "WS-Security derrière HTTP Digest",
  "http-digest": "HTTP Digest seul",
  none: "aucune réussie",
};
const MEDIA_LABELS = { media2: "Media2 (profil T)", media: "Media1 (profil S)", unknown: "non déterminé" };
const INTEROP_KEYS = ["authentication", "clock", "media"];
const UNSUPPORTED = "unsupported: ";

function clockLabel(value) {
  if (value === "open") return "lue sans identifiants";
  if (String(value).startsWith("signed")) return "lue avec identifiants (la caméra l'exige)";
  return `non répertoriée (« ${value} »)`;
}

function interopPanel(camera) {
  const box = el("section", { class: "interop", id: "interop", "aria-labelledby": "interop-title" },
    el("h2", { id: "interop-title" }, "Dialogue avec la caméra"));
  const check = camera.checks.find((c) => c.kind === "full" && c.observed && c.observed.interop);
  if (!check) {
    box.append(el("p", {}, "Aucun contrôle complet n'a encore décrit le dialogue avec la caméra."));
    return box;
  }
  const interop = check.observed.interop;
  const { authentication, clock, media } = interop;
  // The reasons are the camera's words: text nodes only (el), never HTML.
  const unsupported = Object.entries(interop)
    .filter(([call]) => !INTEROP_KEYS.includes(call))
    .map(([call, value]) => [call, String(value).startsWith(UNSUPPORTED)
      ? String(value).slice(UNSUPPORTED.length) : String(value)]);
  box.append(
    el("p", {}, `D'après le contrôle complet du ${when(check.at)}.`),
    el("dl", {},
      el("dt", {}, "Authentification"),
      el("dd", { id: "interop-auth" },
        AUTH_LABELS[authentication] || `non répertoriée (« ${authentication} »)`),
      el("dt", {}, "Horloge"),
      el("dd", { id: "interop-clock" }, clockLabel(clock)),
      el("dt", {}, "Service vidéo"),
      el("dd", { id: "interop-media" }, MEDIA_LABELS[media] || `non répertorié (« ${media} »)`)),
    ...(unsupported.length
      ? [el("h3", { id: "interop-unsupported-title" }, "Contrôles non pris en charge par la caméra"),
        el("ul", { id: "interop-unsupported", "aria-labelledby": "interop-unsupported-title" },
          unsupported.map(([call, reason]) => el("li", {},
            el("code", {}, call), " : ", el("span", { class: "reason" }, reason))))]
      : [el("p", { id: "interop-unsupported" }, "Tous les contrôles sont pris en charge.")]),
    el("p", { class: "notice" }, "Un contrôle que la caméra ne prend pas en charge est noté une fois "
      + "puis n'est plus demandé : il ne compte jamais comme une panne."),
  );
  return box;
}

// What was seen, per picture problem (supervision.imaging.what_was_seen), in French.
const PERCENT = (share) => `${number(Math.round(share * 100))}\u202f%`;
const LOSS_LABELS = {
  black: "Image noire",
  uniform: "Image uniforme (écran « pas de signal »)",
  synthetic: "Écran de synthèse à la place de l'image (mire, « pas de signal »)",
};

export function seenSentence(problem, seen) {
  const v = seen || {};
  const known = (x) => typeof x === "number" && Number.isFinite(x);
  switch (problem) {
    case "covered":
      return known(v.share) ? `Image masquée sur ${PERCENT(v.share)} de sa surface` : "Image masquée";
    case "displaced": {
      if (v.kind !== "shift") return "La caméra montre une autre vue";
      const parts = [];
      if (known(v.dx) && v.dx !== 0) parts.push(`${number(Math.abs(v.dx))} px vers la ${v.dx > 0 ? "droite" : "gauche"}`);
      if (known(v.dy) && v.dy !== 0) parts.push(`${number(Math.abs(v.dy))} px vers le ${v.dy > 0 ? "bas" : "haut"}`);
      return parts.length ? `Vue décalée de ${parts.join(" et de ")}` : "Vue décalée";
    }
    case "glare":
      return known(v.share) ? `Zone éblouie : ${PERCENT(v.share)} de l'image` : "Image éblouie";
    case "blurred":
      return known(v.detail) ? `Netteté à ${PERCENT(v.detail)} de la référence` : "Image floue";
    case "frozen":
      return "Image identique à la précédente (figée)";
    case "video_loss":
      return LOSS_LABELS[v.kind] || "Pas d'image";
    default:
      return cause(problem);
  }
}

const REGIME_LABELS = { day: "jour", night: "nuit (infrarouge)" };
const REGIME_NOUNS = { day: "jour", night: "nuit" };

// Which reference judged the last picture: its regime's, or the other's while its own learns.
export function referenceSentence(picture) {
  if (!picture || !picture.regime) return null;
  const learned = picture.learned || {};
  const target = picture.reference_target || 3;
  const own = learned[picture.regime] ?? 0;
  const images = (n) => `${number(n)} image${n > 1 ? "s" : ""} apprise${n > 1 ? "s" : ""}`;
  const learning = `la référence de ${REGIME_NOUNS[picture.regime]} s'apprend (${number(own)}/${number(target)})`;
  if (!picture.reference_regime) return `Référence utilisée : aucune encore — ${learning}`;
  if (picture.reference_regime === picture.regime) {
    return `Référence utilisée : ${REGIME_LABELS[picture.regime]}, ${images(own)}`
      + (own < target ? ` (${number(own)}/${number(target)})` : "");
  }
  return `Référence utilisée : ${REGIME_LABELS[picture.reference_regime]} — ${learning}`;
}

export async function renderCamera(main, cameraId) {
  const page = el("div", { class: "page" });
  main.append(page);
  let camera;
  try {
    camera = await api.json(`/api/v1/status/${encodeURIComponent(cameraId)}`);
  } catch (error) {
    page.append(el("p", { class: "error" }, error.status === 404 ? "Caméra inconnue ou hors de votre périmètre." : error.message));
    return () => {};
  }
  const last = camera.checks.find((c) => c.observed && c.observed.picture_problems);
  const problems = last ? last.observed.picture_problems : [];
  const seen = last ? last.observed.picture_seen || {} : {};
  const seenLines = problems.filter((p) => seen[p]).map((p) => el("li", {}, seenSentence(p, seen[p])));
  const reference = referenceSentence(camera.picture);
  page.append(...[
    el("p", {}, el("a", { href: "#/carte" }, "← Retour à la carte")),
    el("h1", {}, `${camera.name} (${camera.camera_id})`),
    el("p", {}, "État : ", stateBadge(camera.state), ` depuis ${when(camera.since)}`,
      camera.causes.length ? ` — ${causes(camera.causes)}` : ""),
    camera.incident ? el("p", {}, `Incident ouvert le ${when(camera.incident.opened_at)}`
      + (camera.incident.acknowledged ? " (pris en charge)" : "")) : null,
    el("section", { "aria-label": "Problèmes d'image" }, el("h2", {}, "Problèmes d'image"),
      el("p", { id: "picture-problems" }, last
        ? (problems.length ? problems.map(cause).join(", ") : "Aucun")
        + ` (contrôle du ${when(last.at)})` : "Aucun contrôle d'image enregistré"),
      seenLines.length ? el("ul", { id: "picture-seen", "aria-label": "Ce qui a été vu" }, seenLines) : null,
      reference ? el("p", { id: "picture-reference" }, reference) : null),
  ].filter(Boolean));  // no incident: no line (append would write "null")
  const chartBox = el("section", { class: "chart", id: "availability-chart", "aria-label": "Disponibilité sur 30 jours" },
    el("h2", {}, `Disponibilité sur ${DAYS} jours`));
  page.append(chartBox);
  // One title per section: the heading names the table (no caption saying it again).
  const checks = el("table", { id: "checks", "aria-labelledby": "checks-title" },
    el("tr", {}, el("th", {}, "Date"), el("th", {}, "Contrôle"), el("th", {}, "Joignable"), el("th", {}, "Observations")),
    camera.checks.map((c) => el("tr", {},
      el("td", {}, when(c.at)),
      el("td", {}, CHECK_LABELS[c.kind] || c.kind),
      el("td", {}, c.reachable ? "oui" : "non"),
      el("td", {}, [
        c.observed.error ? `erreur : ${errorLabel(c.observed.error)}` : null,
        c.observed.picture_problems?.length ? `image : ${c.observed.picture_problems.map(cause).join(", ")}` : null,
        c.observed.frame_rate ? `${number(c.observed.frame_rate, 1)} img/s` : null,
      ].filter(Boolean).join(" ; ") || "—"))));
  page.append(el("section", { "aria-labelledby": "checks-title" },
    el("h2", { id: "checks-title" }, "Derniers contrôles"), checks));
  page.append(interopPanel(camera));
  const snapshot = snapshotPanel(camera);
  if (snapshot) page.append(snapshot);
  try {
    chart(chartBox, await availabilityDays(camera));
  } catch (error) {
    chartBox.append(el("p", {}, error.status === 403
      ? "Les rapports de disponibilité ne sont pas ouverts à votre rôle."
      : `Disponibilité indisponible : ${error.message}`));
  }
  return () => {};
}

export { toast };
