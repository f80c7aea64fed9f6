// Every visible court and room with its live status, kept in step with room.status events, so
// the court tree can count rooms by state in each court's subtree without asking again.
import { api } from "../lib/api.js";
import { ROOM_STATES } from "../lib/labels.js";

const PAGE = 1000; // the server's largest page

export class CourtIndex {
  constructor() {
    this.roots = [];          // the court tree as /api/courts gives it
    this.courts = new Map();  // code -> court node
    this.parent = new Map();  // code -> parent code within what is visible
    this.rooms = new Map();   // code -> {code, court, status, name_zh, name_en, feeds}
  }

  async load() {
    const tree = await api("/api/courts");
    this.roots = tree.courts;
    this.courts.clear();
    this.parent.clear();
    const walk = (node, parent) => {
      this.courts.set(node.code, node);
      if (parent) this.parent.set(node.code, parent);
      for (const child of node.children) walk(child, node.code);
    };
    for (const root of this.roots) walk(root, null);
    this.rooms.clear();
    for (let offset = 0; ; offset += PAGE) {
      const page = await api(`/api/courtrooms?limit=${PAGE}&offset=${offset}`);
      for (const room of page.items) this.rooms.set(room.code, room);
      if (offset + PAGE >= page.total) break;
    }
  }

  // Returns true when the room is known and its status changed.
  setStatus(code, status, detail = "") {
    const room = this.rooms.get(code);
    if (!room || (room.status === status && room.status_detail === detail)) return false;
    room.status = status;
    room.status_detail = detail;
    return true;
  }

  // code -> {total, live, recording, idle, fault} over the court and every court below it.
  counts() {
    const result = new Map();
    for (const code of this.courts.keys()) {
      result.set(code, Object.fromEntries([["total", 0], ...ROOM_STATES.map((s) => [s, 0])]));
    }
    for (const room of this.rooms.values()) {
      for (let court = room.court; court; court = this.parent.get(court)) {
        const c = result.get(court);
        if (!c) break;
        c.total += 1;
        c[room.status] += 1;
      }
    }
    return result;
  }

  courtOf(room) {
    return this.courts.get(this.rooms.get(room)?.court);
  }
}
