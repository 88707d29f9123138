// Calls to the authenticated API: bearer token, one refresh-and-retry on 401, problem details.
import * as auth from "./auth.js";

// The server's problem details are in English, for logs and developers: the page tells the
// status in French and keeps the detail on the error.
const STATUS_TEXT = {
  400: "requête refusée", 401: "session expirée", 403: "non autorisé pour votre rôle",
  404: "introuvable", 409: "conflit avec une autre modification", 422: "données refusées",
  429: "trop de requêtes, patientez une minute", 502: "un équipement ne répond pas",
  503: "service momentanément indisponible",
};

export function statusText(status) {
  if (STATUS_TEXT[status]) return STATUS_TEXT[status];
  return status ? `erreur du serveur (${status})` : "serveur injoignable";
}

export class ApiError extends Error {
  constructor(status, detail, message = statusText(status)) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

export async function request(path, { method = "GET", body, accept = "application/json" } = {}) {
  const generation = auth.generation();
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const headers = { Accept: accept, Authorization: `Bearer ${auth.accessToken()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    // Sent before a logout, refused after it: the session is over already, and logging out
    // again would wipe the login form the next person is typing in.
    if (response.status === 401 && (generation !== auth.generation() || !auth.current())) {
      throw new ApiError(401, "session ended");
    }
    if (response.status === 401 && attempt === 0) {
      try {
        await auth.refresh();
        continue;
      } catch (error) {
        if (error.status === 400 || !auth.current()) await auth.logout();  // refused: log in again
        // auth's refusals are already in French; a network failure is not
        throw new ApiError(error.status || 0, error.message, error.status ? error.message : statusText(0));
      }
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new ApiError(response.status, problem.detail || response.statusText);
    }
    return response;
  }
  throw new ApiError(401, "session expired");
}

export async function json(path, options) {
  return (await request(path, options)).json();
}

export async function blob(path, accept) {
  return (await request(path, { accept })).blob();
}
