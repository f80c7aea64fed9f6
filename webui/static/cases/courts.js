// The courts the user may see (GET /api/courts) and their courtrooms (GET /api/courtrooms),
// for the court pickers, names in tables and the rooms a hearing may be booked in.
import { api, el } from "../lib/api.js";
import { localName } from "../lib/i18n.js";

export class Courts {
  constructor() {
    this.list = []; // [{code, name_zh, name_en, case_prefix, parent, depth}] in tree order
    this.byCode = new Map();
    this.rooms = new Map(); // court code -> its own rooms, in registry order
    this.roomByCode = new Map();
  }

  async load() {
    const { courts } = await api("/api/courts");
    const walk = (nodes, depth) => {
      for (const node of nodes) {
        const court = { ...node, depth };
        delete court.children;
        this.list.push(court);
        this.byCode.set(court.code, court);
        walk(node.children, depth + 1);
      }
    };
    walk(courts, 0);
    return this;
  }

  name(code) {
    const court = this.byCode.get(code);
    return court ? localName(court) : code;
  }

  // `court` is `ancestor` or lies below it (as far as the user can see the tree).
  within(court, ancestor) {
    for (let code = court; code; code = this.byCode.get(code)?.parent) {
      if (code === ancestor) return true;
    }
    return false;
  }

  // Fills a <select> with the courts, indented by level, keeping its first (empty) option.
  fill(select, value = select.value) {
    const keep = select.options[0]?.value === "" ? [select.options[0]] : [];
    select.replaceChildren(...keep, ...this.list.map((c) => el("option", { value: c.code,
      text: `${"\u3000".repeat(c.depth)}${localName(c)}` })));
    select.value = this.byCode.has(value) ? value : "";
  }

  // The rooms of `court` itself (not of the courts below it): where its hearings may be held.
  async roomsOf(court) {
    if (!this.rooms.has(court)) {
      const page = await api(`/api/courtrooms?court=${encodeURIComponent(court)}&limit=1000`);
      const own = page.items.filter((r) => r.court === court);
      for (const room of page.items) this.roomByCode.set(room.code, room);
      this.rooms.set(court, own);
    }
    return this.rooms.get(court);
  }

  roomName(code) {
    const room = this.roomByCode.get(code);
    return room ? `${localName(room)} ${code}` : code;
  }
}
