// Small helpers: DOM building (text only, never HTML strings), French labels, Paris times.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const STATES = ["up", "degraded", "down", "maintenance", "unknown"];
export const STATE_LABELS = {
  up: "En service", degraded: "Dégradée", down: "Hors service",
  maintenance: "En maintenance", unknown: "Inconnu",
};
// A letter per state: the state is never told by colour alone.
export const STATE_LETTERS = { up: "S", degraded: "D", down: "H", maintenance: "M", unknown: "?" };
export const STATE_RANK = { up: 0, unknown: 1, maintenance: 2, degraded: 3, down: 4 };
export const SEVERITY_LABELS = { critical: "Critique", major: "Majeur", minor: "Mineur" };
export const SEVERITY_RANK = { critical: 3, major: 2, minor: 1 };
export const CAUSE_LABELS = {
  unreachable: "injoignable", clock_offset: "horloge décalée", auth_failed: "authentification refusée",
  low_frame_rate: "cadence trop faible", wrong_resolution: "mauvaise résolution",
  video_loss: "perte vidéo", frozen: "image figée", blurred: "image floue", covered: "caméra masquée",
  displaced: "caméra déplacée", glare: "éblouissement", silent: "sans nouvelles",
  // reported by the camera's own ONVIF events, not by Vigie's analysis: said so
  camera_tamper: "sabotage (signalé par la caméra)",
  camera_scene_change: "changement de scène (signalé par la caméra)",
  camera_video_loss: "perte vidéo (signalée par la caméra)",
  camera_blurred: "image floue (signalée par la caméra)",
  camera_too_dark: "image trop sombre (signalée par la caméra)",
  camera_too_bright: "image trop claire (signalée par la caméra)",
  storage_failure: "carte mémoire en panne (signalée par la caméra)",
  hardware_failure: "panne matérielle (signalée par la caméra)",
  recording_stopped: "enregistrement arrêté", storage_failed: "stockage en défaut",
  certificate_changed: "certificat TLS changé : alerte de sécurité, plus rien n'est envoyé",
};

// Why a check could not reach the camera (supervision.states.ErrorKind).
export const ERROR_LABELS = {
  timeout: "délai dépassé", refused: "connexion refusée", unreachable: "hôte injoignable",
  tls: "échec de la connexion chiffrée (TLS)", protocol: "réponse non conforme (ni ONVIF ni RTSP)",
};
// Which probe made a check (supervision.states.CheckKind).
export const CHECK_LABELS = {
  liveness: "présence", full: "complet", stream: "flux vidéo", events: "événements de la caméra",
};

// A code this page does not know yet (a newer server) is still said in French.
export function cause(code) {
  return CAUSE_LABELS[code] || `cause non répertoriée (« ${code} »)`;
}

export function causes(list) {
  return (list || []).map(cause).join(", ");
}

export function errorLabel(code) {
  return ERROR_LABELS[code] || `erreur non répertoriée (« ${code} »)`;
}

const PARIS = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "medium",
});
const PARIS_DAY = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "2-digit", month: "2-digit" });

export function when(iso) {
  return iso ? PARIS.format(new Date(iso)) : "—";
}

const PARIS_PARTS = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/Paris", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});

// Minutes Paris is ahead of UTC at an instant (60 in winter, 120 in summer).
function parisOffset(ms) {
  const p = Object.fromEntries(PARIS_PARTS.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Math.round((Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - ms) / 60000);
}

const pad = (n) => String(n).padStart(2, "0");

// A datetime-local value read as Paris time, whatever the browser's zone: ISO with its offset.
export function parisIso(local) {
  const [date, time] = local.split("T");
  const [y, m, d] = date.split("-").map(Number);
  const [h, min] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, h, min);
  const offset = parisOffset(wall - parisOffset(wall) * 60000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${date}T${pad(h)}:${pad(min)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// « 1 j 2 h 05 min », « 45 min », « 30 s »: a length of time in French.
export function duration(seconds) {
  const s = Math.round(seconds || 0);
  if (s < 60) return `${s} s`;
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days) return `${days} j ${hours} h ${pad(minutes)} min`;
  if (hours) return `${hours} h ${pad(minutes)} min`;
  return `${minutes} min`;
}

export function day(date) {
  return PARIS_DAY.format(date);
}

const EUROS = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR", maximumFractionDigits: 0 });
export function euros(value) {
  return value === null || value === undefined ? "—" : EUROS.format(value);
}

export function number(value, digits = 0) {
  return value === null || value === undefined ? "—"
    : new Intl.NumberFormat("fr-FR", { maximumFractionDigits: digits }).format(value);
}

export function stateBadge(state) {
  return el("span", { class: `state state-${state}` }, STATE_LABELS[state] || state);
}

export function marker(state, extraClass = "") {
  return el("span", { class: `cam cam-${state} ${extraClass}`.trim(), "aria-hidden": "true" },
    el("span", {}, STATE_LETTERS[state] || "?"));
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
