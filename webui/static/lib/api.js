// Same-origin JSON calls with the session cookie; errors carry the server's {"error": ...}.
export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, credentials: "same-origin", headers: { ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  const json = resp.headers.get("Content-Type")?.includes("json") ? await resp.json() : null;
  if (!resp.ok) throw new ApiError(resp.status, json?.error || resp.statusText, json?.detail);
  return json;
}

// The logged-in user (GET /api/me: who, and what they may do where; see grants.js) or null.
export async function currentUser() {
  try {
    return await api("/api/me");
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

// Builds an element; text is always set as text, never as HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// The live event stream (/api/events WebSocket) with reconnect; handler(event) per event.
export function events(handler, { onState } = {}) {
  let ws = null;
  let delay = 500;
  let stopped = false;
  const connect = () => {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${proto}://${location.host}/api/events`);
    ws.onopen = () => { delay = 500; onState?.("open"); };
    ws.onmessage = (msg) => {
      try {
        const event = JSON.parse(msg.data);
        // The node lost other nodes' events for a moment: to the page, as if the socket had
        // closed and opened again, so pages refetch what they show as after a reconnect.
        if (event.kind === "bus.resync") { onState?.("closed"); onState?.("open"); return; }
        handler(event);
      } catch (err) { console.error(err); }
    };
    ws.onclose = () => {
      onState?.("closed");
      if (!stopped) setTimeout(connect, delay = Math.min(delay * 2, 10000));
    };
  };
  connect();
  return () => { stopped = true; ws?.close(); };
}
