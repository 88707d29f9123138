// Tokens: kept in sessionStorage (gone with the tab), refreshed before they expire.

const KEY = "vigie.session";
const TOKEN_URL = "/api/v1/auth/token";
let session = JSON.parse(sessionStorage.getItem(KEY) || "null");
let timer = null;
let refreshing = null;
let logins = 0;  // counts logins and logouts: a request tells whether its session still holds
const listeners = [];

export function current() { return session; }
export function accessToken() { return session && session.access; }
export function role() { return session && session.role; }
export function onLogout(listener) { listeners.push(listener); }
export function generation() { return logins; }

function store(answer, username, previous = null) {
  session = {
    access: answer.access_token,
    refresh: answer.refresh_token,
    role: answer.role,
    username: username || (previous && previous.username),
    me: previous && previous.me,
    expiresAt: Date.now() + answer.expires_in * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  schedule();
}

export function setMe(me) {
  session.me = me;
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

function schedule() {
  clearTimeout(timer);
  if (!session) return;
  // Refresh at 80 % of the lifetime, at least 5 s from now.
  const delay = Math.max(5000, (session.expiresAt - Date.now()) * 0.8);
  timer = setTimeout(() => refresh().catch(retryOrLogout), delay);
}

// A refused refresh token ends the session; a busy or unreachable server is tried again in
// 30 s (the wall must not log itself out because the network hiccuped).
function retryOrLogout(error) {
  if (error.status === 400 || error.status === 401 || !session || Date.now() > session.expiresAt) {
    logout();
    return;
  }
  clearTimeout(timer);
  timer = setTimeout(() => refresh().catch(retryOrLogout), 30000);
}

async function grant(form) {
  const response = await fetch(TOKEN_URL, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(response.status === 429
      ? "Trop de tentatives : patientez une minute."
      : "Identifiant ou mot de passe incorrect, ou compte verrouillé.");
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function login(username, password) {
  logins += 1;
  store(await grant({ grant_type: "password", username, password }), username);
}

export function refresh() {
  if (!session) return Promise.reject(new Error("no session"));
  if (!refreshing) {
    refreshing = grant({ grant_type: "refresh_token", refresh_token: session.refresh })
      .then((answer) => store(answer, null, session))
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function logout() {
  const old = session;
  session = null;
  logins += 1;
  clearTimeout(timer);
  sessionStorage.removeItem(KEY);
  if (old) {
    await fetch("/api/v1/auth/logout", {
      method: "POST",
      headers: { Authorization: `Bearer ${old.access}`, "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: old.refresh }),
    }).catch(() => {});
  }
  listeners.forEach((listener) => listener());
}

if (session) {
  if (session.expiresAt - Date.now() < 5000) refresh().catch(retryOrLogout);
  else schedule();
}
