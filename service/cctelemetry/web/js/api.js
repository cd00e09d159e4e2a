// The public API, as any script would call it. A panel whose endpoint is not on this service yet
// (404, or a dimension the service does not know) gets `{missing: true}` and says so.

export class ApiError extends Error {
  constructor(status, code, message, url) {
    super(message);
    this.status = status;
    this.code = code;
    this.url = url;
  }
}

export function apiUrl(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return `/api/v1/${path}${s ? "?" + s : ""}`;
}

export async function getJSON(path, params, signal) {
  const url = apiUrl(path, params);
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: "application/json" }, cache: "no-store" });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "unreachable", "the service does not answer", url);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.code || "http_" + response.status, body?.error || response.statusText, url);
  }
  return body;
}

/** An endpoint that may not exist on this service yet: its body, or `{missing: true, reason}`. */
export async function optional(path, params, signal) {
  try {
    return await getJSON(path, params, signal);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.code === "unknown_dimension")) {
      return { missing: true, reason: `GET ${err.url.split("?")[0]} answers ${err.status} on this service` };
    }
    throw err;
  }
}
