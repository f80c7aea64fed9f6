// What the wall shows where, and from which stream: pure functions over the wall's state, so
// the order of tiles (alarms first) and the choice of stream are decided in one place.

export const SIZES = [1, 4, 9, 16, 25, 36];
const SEVERITY = { warning: 1, major: 2, critical: 3 };

// The open (not yet acknowledged, not cleared) alerts by room, worst and oldest first.
export function openAlertsByRoom(alerts) {
  const byRoom = new Map();
  for (const alert of alerts.values()) {
    if (alert.state !== "open" || alert.cleared_at) continue;
    if (!byRoom.has(alert.room)) byRoom.set(alert.room, []);
    byRoom.get(alert.room).push(alert);
  }
  for (const list of byRoom.values()) list.sort(worseFirst);
  return byRoom;
}

function worseFirst(a, b) {
  return (SEVERITY[b.severity] || 0) - (SEVERITY[a.severity] || 0) || (a.since < b.since ? -1 : 1);
}

// The tiles in display order. `slots` are the wall's assignments ({room, feed, alert?} or null
// by slot); rooms with an open alert come first (worst first), and alarmed rooms of `inScope`
// that are not on the wall pop in, displacing empty tiles before assigned ones. Each entry is
// {key, slot, room, feed, alert, popin} (`room` null for an empty tile); keys stay with their
// slot, so a tile that moves keeps its player.
export function arrange(slots, alarms, inScope) {
  const size = slots.length;
  const entries = slots.map((tile, slot) => ({
    key: `slot:${slot}`, slot, room: tile?.room ?? null, feed: tile?.feed ?? null,
    alert: tile?.room ? alarms.get(tile.room)?.[0] ?? null : null, popin: false,
  }));
  const onWall = new Set(entries.filter((e) => e.room).map((e) => e.room));
  const popins = [...alarms.entries()]
    .filter(([room]) => !onWall.has(room) && inScope(room))
    .map(([room, list]) => ({ key: `alarm:${room}`, slot: null, room, feed: list[0].feed || null,
      alert: list[0], popin: true }));
  const alarmed = [...entries.filter((e) => e.alert), ...popins].sort((a, b) => worseFirst(a.alert, b.alert));
  let rest = entries.filter((e) => !e.alert);
  let extra = alarmed.length + rest.length - size;
  // Pop-ins take the places of empty tiles first, then of the last assigned ones.
  for (let i = rest.length - 1; i >= 0 && extra > 0; i -= 1) {
    if (!rest[i].room) { rest.splice(i, 1); extra -= 1; }
  }
  if (extra > 0) rest = rest.slice(0, Math.max(0, rest.length - extra));
  return [...alarmed, ...rest].slice(0, size);
}

// The WHEP path of a tile: the main stream (or the chosen feed) in full screen; small tiles use
// the room's `sub` feed while it is live, and otherwise the keyframes of the main feed.
export function streamFor(entry, room, liveFeeds, full) {
  const feed = entry.feed || "main";
  if (full) return `rooms/${entry.room}/${feed}`;
  if (feed === "sub") return `rooms/${entry.room}/sub`;
  if (!entry.feed && room?.feeds?.includes("sub") && liveFeeds?.has("sub")) {
    return `rooms/${entry.room}/sub`;
  }
  return `rooms/${entry.room}/${feed}?keyframes=1`;
}

// The feed a stream path reads ("main" of "rooms/X/main?keyframes=1").
export function feedOf(path) {
  return path.split("?")[0].split("/")[2];
}

// The index reached from `index` by an arrow key on a square grid of `size` tiles.
export function moveFocus(index, key, size) {
  const cols = Math.round(Math.sqrt(size));
  const row = Math.floor(index / cols);
  const col = index % cols;
  switch (key) {
    case "ArrowLeft": return col > 0 ? index - 1 : index;
    case "ArrowRight": return col < cols - 1 && index + 1 < size ? index + 1 : index;
    case "ArrowUp": return row > 0 ? index - cols : index;
    case "ArrowDown": return index + cols < size ? index + cols : index;
    default: return index;
  }
}

// `tiles` cut or padded with empty tiles to `size`.
export function fit(tiles, size) {
  return Array.from({ length: size }, (_, i) => tiles[i] ?? null);
}

// One page of a tour through `rooms` (page numbers wrap around).
export function tourPage(rooms, page, size) {
  if (!rooms.length) return fit([], size);
  const pages = Math.ceil(rooms.length / size);
  const start = (((page % pages) + pages) % pages) * size;
  return fit(rooms.slice(start, start + size).map((code) => ({ room: code, feed: null })), size);
}
