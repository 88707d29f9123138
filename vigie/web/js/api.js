// Calls to the authenticated API: bearer token, one refresh-and-retry on 401, problem details.
import * as auth from "./auth.js";

export class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

export async function request(path, { method = "GET", body, accept = "application/json" } = {}) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const headers = { Accept: accept, Authorization: `Bearer ${auth.accessToken()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && attempt === 0) {
      try {
        await auth.refresh();
        continue;
      } catch (error) {
        if (error.status === 400 || !auth.current()) await auth.logout();  // refused: log in again
        throw new ApiError(error.status || 0, error.message);
      }
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new ApiError(response.status, problem.detail || response.statusText);
    }
    return response;
  }
  throw new ApiError(401, "session expirée");
}

export async function json(path, options) {
  return (await request(path, options)).json();
}

export async function blob(path, accept) {
  return (await request(path, { accept })).blob();
}
