// The first page: log in, list courtrooms with live status, watch one (WHEP), publish (WHIP).
import { publish, watch } from "./webrtc.js";

const $ = (id) => document.getElementById(id);
let me = null;
let watching = null;
let publishing = null;

async function api(path, options = {}) {
  const resp = await fetch(path, { credentials: "same-origin", ...options });
  const body = resp.headers.get("Content-Type")?.includes("json") ? await resp.json() : null;
  if (!resp.ok) throw new Error(body?.error || resp.statusText);
  return body;
}

function show(loggedIn) {
  $("login").hidden = loggedIn;
  $("who").hidden = !loggedIn;
  $("rooms-panel").hidden = !loggedIn;
  $("publish-panel").hidden = !loggedIn || !["admin", "clerk"].includes(me?.role);
}

async function loadRooms() {
  const params = new URLSearchParams();
  const q = $("room-search").value.trim();
  if (q) params.set("q", q);
  if ($("live-only").checked) params.set("status", "live");
  const page = await api(`/api/courtrooms?${params}`);
  $("room-count").textContent = `${page.total} 间 rooms`;
  const list = $("rooms");
  list.replaceChildren();
  for (const room of page.items.slice(0, 200)) {
    for (const feed of room.feeds) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${room.code} ${room.name_zh} · ${feed}`;
      const status = document.createElement("span");
      status.className = `status status-${room.status}`;
      status.textContent = room.status;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "观看 Watch";
      button.dataset.path = `rooms/${room.code}/${feed}`;
      button.addEventListener("click", () => startWatching(button.dataset.path));
      li.append(name, status, button);
      list.append(li);
    }
  }
}

async function startWatching(path) {
  if (watching) await watching.close();
  $("player-panel").hidden = false;
  $("player-state").textContent = `连接中 connecting ${path}`;
  $("watermark").textContent = `${me.username} ${new Date().toISOString().slice(0, 16)}`;
  try {
    watching = await watch(path, $("player"));
    $("player-state").textContent = `直播 live: ${path}`;
  } catch (err) {
    $("player-state").textContent = `无法观看 cannot watch: ${err.message}`;
  }
}

async function start() {
  try {
    me = await api("/api/me");
  } catch {
    me = null;
  }
  show(Boolean(me));
  if (me) {
    $("who-name").textContent = `${me.username} (${me.role})`;
    await loadRooms();
  }
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  try {
    await api("/api/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
    });
    $("login-error").textContent = "";
    await start();
  } catch (err) {
    $("login-error").textContent = err.message;
  }
});
$("logout").addEventListener("click", async () => {
  await api("/api/logout", { method: "POST" }).catch(() => {});
  me = null;
  show(false);
});
$("room-search").addEventListener("input", () => loadRooms().catch(() => {}));
$("live-only").addEventListener("change", () => loadRooms().catch(() => {}));
$("unmute").addEventListener("click", () => { $("player").muted = false; });
$("stop-watch").addEventListener("click", async () => {
  if (watching) await watching.close();
  watching = null;
  $("player-state").textContent = "";
});
$("publish").addEventListener("click", async () => {
  try {
    const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    $("preview").srcObject = media;
    publishing = await publish($("publish-path").value.trim(), media);
    $("publish-state").textContent = "推流中 publishing";
    $("publish").disabled = true;
    $("unpublish").disabled = false;
  } catch (err) {
    $("publish-state").textContent = `无法推流 cannot publish: ${err.message}`;
  }
});
$("unpublish").addEventListener("click", async () => {
  if (publishing) await publishing.close();
  publishing = null;
  $("preview").srcObject?.getTracks().forEach((t) => t.stop());
  $("publish").disabled = false;
  $("unpublish").disabled = true;
  $("publish-state").textContent = "";
});

start();
