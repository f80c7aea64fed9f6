// The monitoring wall (/wall): 1 to 36 tiles of rooms, alarms framed and first, a tour through
// a court's rooms, layouts saved per user. `/wall?shared=<id>` shows a shared wall that every
// screen follows through the event stream; `&kiosk=1` is the big screen (tiles only).
import { api, events } from "../lib/api.js";
import { addStrings, onLangChange, t } from "../lib/i18n.js";
import { may } from "../lib/grants.js";
import { startShell } from "../lib/shell.js";
import { SIZES, arrange, feedOf, fit, moveFocus, openAlertsByRoom, streamFor, tourPage } from "./layout.js";
import { DRAG_TYPE, RoomIndex, RoomPanel } from "./rooms.js";
import { Tile } from "./tile.js";

addStrings({
  "wall.title": ["监控墙", "Monitoring wall"],
  "wall.rooms": ["法庭", "Courtrooms"], "wall.court": ["法院", "Court"], "wall.search": ["搜索", "Search"],
  "wall.alarms": ["告警", "Alarms"], "wall.choice": ["墙", "Wall"], "wall.mine": ["我的监控墙", "My wall"],
  "wall.size": ["布局", "Layout"], "wall.tiles": ["{n} 格", "{n} tiles"],
  "wall.layout": ["已存布局", "Saved layouts"], "wall.name": ["布局名称", "Layout name"],
  "wall.save": ["保存", "Save"], "wall.saved": ["已保存“{name}”", "Saved “{name}”"],
  "wall.defaultName": ["默认", "Default"], "wall.tour": ["轮巡", "Tour"],
  "wall.interval": ["间隔（秒）", "Interval (s)"], "wall.kiosk": ["大屏模式", "Big screen"],
  "wall.keys": ["方向键选择画面，Enter 放入所选法庭或全屏，F 全屏，A 确认告警，Delete 清空，Esc 退出",
    "Arrows move between tiles; Enter puts the chosen room or goes full screen; F full screen; A acknowledges; Delete clears; Esc exits"],
  "wall.hint": ["把法庭拖到画面上，或选中后在画面上按 Enter", "Drag a courtroom onto a tile, or choose it and press Enter on a tile"],
  "wall.gone": ["此共享墙已被删除", "This shared wall was deleted"],
  "wall.error": ["操作失败：{reason}", "Failed: {reason}"],
  "wall.pushed": ["{by} 放入了 {room}", "{by} put {room} on the wall"],
});

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const shared = /^\d+$/.test(params.get("shared") || "") ? Number(params.get("shared")) : null;
const kiosk = shared !== null && params.get("kiosk") === "1";

const index = new RoomIndex();
const alerts = new Map();      // id -> alert (active ones)
const liveFeeds = new Map();   // room -> Set of live feeds (rooms asked about so far)
const tiles = new Map();       // key -> Tile
const wall = { size: 16, slots: fit([], 16), version: 0, court: "", name: "" };
const tour = { on: false, rooms: [], page: 0, timer: null };
let me = null;
let order = [];                // keys in display order
let fullKey = null;
let layoutName = "";
let panel = null;
let saveTimer = null;
let renderQueued = false;

const say = (text) => { $("wall-state").textContent = text; };
const fail = (err) => say(t("wall.error", { reason: err.message }));

function inScope(room) {
  const court = index.rooms.get(room)?.court;
  return Boolean(court) && index.within(court, shared !== null ? wall.court : $("court-filter").value);
}

function shownSlots() {
  return tour.on ? tourPage(tour.rooms, tour.page, wall.size) : wall.slots;
}

function pathFor(entry, full) {
  const live = entry.room ? liveFeeds.get(entry.room) : null;
  if (!live) return null;
  const path = streamFor(entry, index.rooms.get(entry.room), live, full);
  return live.has(feedOf(path)) ? path : null;
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => { renderQueued = false; render(); });
}

function render() {
  const alarms = openAlertsByRoom(alerts);
  const entries = arrange(shownSlots(), alarms, inScope);
  $("wall").className = `wall n${wall.size}${fullKey ? " has-full" : ""}`;
  const keep = new Set(entries.map((e) => e.key));
  for (const [key, tile] of tiles) {
    if (!keep.has(key)) { tile.close(); tile.el.remove(); tiles.delete(key); }
  }
  if (fullKey && !keep.has(fullKey)) fullKey = null;
  entries.forEach((entry, i) => {
    let tile = tiles.get(entry.key);
    if (!tile) {
      tile = new Tile(entry.key, { user: me, onAck: acknowledge, onActivate: toggleFull });
      tiles.set(entry.key, tile);
      $("wall").append(tile.el);
      dropTarget(tile);
    }
    tile.el.style.order = String(i);  // CSSOM, allowed by the page's CSP; no DOM moves
    tile.update(entry, index.rooms.get(entry.room), pathFor(entry, entry.key === fullKey),
      { index: i, full: entry.key === fullKey });
  });
  order = entries.map((e) => e.key);
  if (![...tiles.values()].some((x) => x.el.tabIndex === 0) && order.length) tiles.get(order[0]).el.tabIndex = 0;
  panel.renderAlarms([...alarms].filter(([room]) => index.rooms.has(room)));
  askFeeds(entries.map((e) => e.room).filter((r) => r && !liveFeeds.has(r)));
}

async function askFeeds(rooms) {
  for (let i = 0; i < rooms.length; i += 64) {
    const chunk = rooms.slice(i, i + 64);
    chunk.forEach((r) => liveFeeds.set(r, liveFeeds.get(r) || null));  // asked: not again
    const body = await api(`/api/walls/feeds?rooms=${chunk.join(",")}`).catch(() => {
      chunk.forEach((r) => { if (!liveFeeds.get(r)) liveFeeds.delete(r); });  // ask next time
      return { feeds: {} };
    });
    for (const [room, feeds] of Object.entries(body.feeds)) liveFeeds.set(room, new Set(feeds));
  }
  if (rooms.length) queueRender();
}

// ---- changing the wall ----

async function assign(slot, value) {
  if (shared !== null) {
    const body = value.alert ? { alert: value.alert } : { room: value.room, feed: value.feed || null };
    applyShared(await api(`/api/walls/${shared}/tiles/${slot}`, { method: "POST", body }));
    return;
  }
  if (tour.on) stopTour();
  wall.slots[slot] = { room: value.room, feed: value.feed || null };
  changed();
}

async function clear(slot) {
  if (shared !== null) {
    applyShared(await api(`/api/walls/${shared}/tiles/${slot}`, { method: "DELETE" }));
    return;
  }
  wall.slots[slot] = null;
  changed();
}

function slotFor(tile) {
  if (tile.entry?.slot !== null && tile.entry?.slot !== undefined) return tile.entry.slot;
  const free = shownSlots().findIndex((s) => !s);
  return free >= 0 ? free : null;
}

function changed() {
  render();
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => saveLayout(layoutName).catch(fail), 400);
}

function applyShared(body) {
  if (body.version < wall.version) return;
  Object.assign(wall, { size: body.size, slots: fit(body.tiles, body.size), version: body.version,
    court: body.court, name: body.name });
  $("wall-size").value = String(body.size);
  render();
}

async function setSize(size) {
  if (shared !== null) {
    const body = await api(`/api/walls/${shared}`, { method: "PUT", body: { size } }).catch((err) => {
      $("wall-size").value = String(wall.size);
      throw err;
    });
    applyShared(body);
    return;
  }
  wall.size = size;
  wall.slots = fit(wall.slots, size);
  changed();
}

async function acknowledge(tile) {
  const alert = tile.entry?.alert;
  if (!alert) return;
  const comment = tile.comment.value.trim() || t("tile.ackDefault");
  const done = await api(`/api/alerts/${alert.id}/ack`, { method: "POST", body: { comment } }).catch(fail);
  if (done) { alerts.set(done.id, done); tile.comment.value = ""; render(); }
}

function toggleFull(tile) {
  if (!tile.entry?.room && fullKey !== tile.key) return;
  fullKey = fullKey === tile.key ? null : tile.key;
  render();
  tile.el.focus();
}

// ---- layouts and tour (personal walls) ----

async function loadLayouts(pick) {
  const { layouts } = await api("/api/walls/mine");
  $("layout-load").replaceChildren(...layouts.map((l) => new Option(l.name, l.name)));
  const chosen = layouts.find((l) => l.name === pick) || layouts[0];
  if (chosen && pick !== false) useLayout(chosen);
  return layouts;
}

function useLayout(layout) {
  layoutName = layout.name;
  $("layout-name").value = layout.name;
  $("layout-load").value = layout.name;
  wall.size = layout.size;
  wall.slots = fit(layout.tiles, layout.size);
  $("wall-size").value = String(layout.size);
  stopTour();
  if (layout.tour) {
    $("court-filter").value = layout.tour.court || "";
    $("tour-interval").value = String(layout.tour.interval_s);
    startTour();
  }
  render();
}

async function saveLayout(name) {
  const tourSpec = tour.on ? { court: $("court-filter").value || null, interval_s: interval() } : null;
  const tilesNow = wall.slots.map((s) => (s ? { room: s.room, feed: s.feed || null } : null));
  await api(`/api/walls/mine/${encodeURIComponent(name)}`, { method: "PUT",
    body: { size: wall.size, tiles: tilesNow, tour: tourSpec } });
  layoutName = name;
  await loadLayouts(false);
  $("layout-load").value = name;
  return name;
}

function interval() {
  return Math.min(600, Math.max(5, Number($("tour-interval").value) || 10));
}

function startTour() {
  tour.rooms = index.roomsOf($("court-filter").value);
  tour.page = 0;
  tour.on = true;
  clearInterval(tour.timer);
  tour.timer = setInterval(() => { tour.page += 1; render(); }, interval() * 1000);
  $("tour-toggle").setAttribute("aria-pressed", "true");
}

function stopTour() {
  clearInterval(tour.timer);
  tour.on = false;
  $("tour-toggle").setAttribute("aria-pressed", "false");
}

// ---- input ----

function dropTarget(tile) {
  tile.el.addEventListener("dragover", (ev) => {
    if (ev.dataTransfer.types.includes(DRAG_TYPE)) { ev.preventDefault(); tile.el.classList.add("drop"); }
  });
  tile.el.addEventListener("dragleave", () => tile.el.classList.remove("drop"));
  tile.el.addEventListener("drop", (ev) => {
    ev.preventDefault();
    tile.el.classList.remove("drop");
    const slot = slotFor(tile);
    if (slot !== null) assign(slot, JSON.parse(ev.dataTransfer.getData(DRAG_TYPE))).catch(fail);
  });
}

function focusAt(i) {
  const tile = tiles.get(order[i]);
  if (!tile) return;
  for (const other of tiles.values()) other.el.tabIndex = -1;
  tile.el.tabIndex = 0;
  tile.el.focus();
}

function onKey(ev) {
  const tile = [...tiles.values()].find((x) => x.el === ev.target);
  if (!tile) return false;
  const i = order.indexOf(tile.key);
  const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
  if (key.startsWith("Arrow") && !fullKey) focusAt(moveFocus(i, key, order.length));
  else if (key === "Enter" && panel.chosen && !fullKey) {
    const slot = slotFor(tile);
    if (slot !== null) assign(slot, panel.chosen).catch(fail);
    panel.clearChoice();
  } else if (key === "Enter" || key === "f") toggleFull(tile);
  else if (key === "Escape") { if (fullKey) toggleFull(tiles.get(fullKey)); else panel.clearChoice(); }
  else if (key === "a") acknowledge(tile);
  else if ((key === "Delete" || key === "Backspace") && tile.entry?.slot !== null) clear(tile.entry.slot).catch(fail);
  else return false;
  return true;
}

function onEvent(ev) {
  const data = ev.data || {};
  if (ev.kind.startsWith("alert.")) {
    if (ev.kind === "alert.cleared" || data.cleared_at) alerts.delete(data.id);
    else alerts.set(data.id, data);
  } else if (ev.kind === "stream.up" || ev.kind === "stream.down") {
    const live = liveFeeds.get(ev.room);
    if (!live) return;
    if (ev.kind === "stream.up") live.add(data.feed); else live.delete(data.feed);
  } else if (ev.kind === "room.status") {
    const room = index.rooms.get(ev.room);
    if (room) room.status = data.status;
    return;
  } else if (ev.kind === "wall.changed" && data.id === shared) {
    if (data.deleted) { say(t("wall.gone")); return; }
    applyShared(data);
    if (data.tile !== null && data.by !== me.username) say(t("wall.pushed", { by: data.by, room: data.tiles[data.tile]?.room || "–" }));
  } else return;
  queueRender();
}

function wire() {
  $("wall-size").replaceChildren(...SIZES.map((n) => new Option(t("wall.tiles", { n }), String(n))));
  $("wall-size").value = String(wall.size);
  $("wall-size").addEventListener("change", () => setSize(Number($("wall-size").value)).catch(fail));
  $("wall").addEventListener("keydown", (ev) => {
    const t0 = ev.timeStamp;
    if (!onKey(ev)) return;
    ev.preventDefault();
    // How long a key took to show, measured in the page (tests bound it, benchmarks report it).
    requestAnimationFrame(() => { document.body.dataset.keyLatency = (performance.now() - t0).toFixed(1); });
  });
  $("layout-load").addEventListener("change", () => loadLayouts($("layout-load").value).catch(fail));
  $("layout-save").addEventListener("click", () => {
    const name = $("layout-name").value.trim() || t("wall.defaultName");
    saveLayout(name).then(() => say(t("wall.saved", { name })), fail);
  });
  $("tour-toggle").addEventListener("click", () => { if (tour.on) stopTour(); else startTour(); render(); });
  $("court-filter").addEventListener("change", () => { if (tour.on) startTour(); queueRender(); });
  $("wall-choice").addEventListener("change", () => {
    const id = $("wall-choice").value;
    location.assign(id ? `/wall?shared=${id}` : "/wall");
  });
  onLangChange(() => {
    for (const option of $("wall-size").options) option.text = t("wall.tiles", { n: option.value });
    if ($("wall-choice").options.length) $("wall-choice").options[0].text = t("wall.mine");
    panel.fillCourts($("court-filter").value);
    panel.render();
    render();
  });
}

async function main() {
  if (kiosk) document.body.classList.add("kiosk");
  me = await startShell({ action: "wall.use" });
  if (!me) return;
  panel = new RoomPanel({ index, list: $("room-list"), court: $("court-filter"), search: $("room-q"),
    alarms: $("alarm-list"), status: $("choice-state"),
    onChoose: () => tiles.get(order.find((k) => tiles.get(k).el.tabIndex === 0) || order[0])?.el.focus() });
  wire();
  const held = [];
  let holding = true;
  events((ev) => (holding ? held.push(ev) : onEvent(ev)));
  await index.load();
  panel.fillCourts();
  panel.render();
  const active = await api("/api/alerts?state=active&limit=500").catch(() => ({ items: [] }));
  for (const a of active.items) alerts.set(a.id, a);
  const { walls } = await api("/api/walls");
  $("wall-choice").replaceChildren(new Option(t("wall.mine"), ""),
    ...walls.map((w) => new Option(w.name, String(w.id))));
  $("wall-choice").value = shared !== null ? String(shared) : "";
  document.body.dataset.mode = shared !== null ? "shared" : "mine";
  if (shared !== null) {
    applyShared(await api(`/api/walls/${shared}`));
    $("wall-size").disabled = !may(me, "wall.manage");  // leaders resize
    $("kiosk-link").href = `/wall?shared=${shared}&kiosk=1`;
  } else {
    layoutName = t("wall.defaultName");
    const layouts = await loadLayouts();
    if (!layouts.length) render();
  }
  holding = false;
  held.forEach(onEvent);
  document.body.dataset.ready = "1";
}

main().catch(fail);
