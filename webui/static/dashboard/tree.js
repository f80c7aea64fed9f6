// The court tree: one button per court (choosing it filters rooms and schedule), with counts of
// the rooms in its subtree by state; a toggle before each court with courts below opens them.
import { el } from "../lib/api.js";
import { addStrings, localName, t } from "../lib/i18n.js";

addStrings({
  "tree.total": ["{n} 间", "{n} rooms"],
  "tree.live": ["直播 {n}", "live {n}"],
  "tree.recording": ["录制 {n}", "rec {n}"],
  "tree.fault": ["故障 {n}", "fault {n}"],
  "tree.below": ["{name}的下级法院", "Courts under {name}"],
});

export class CourtTree {
  constructor(container, index, onSelect) {
    this.container = container;
    this.index = index;
    this.onSelect = onSelect;
    this.selected = null;
    this.badges = new Map(); // court code -> counts element
    this.buttons = new Map();
    this.expanded = null; // codes of opened courts; the first level until the user chooses
  }

  render() {
    this.expanded ??= new Set(this.index.roots.map((root) => root.code));
    this.badges.clear();
    this.buttons.clear();
    const list = el("ul", { class: "tree" });
    for (const root of this.index.roots) list.append(this.node(root));
    this.container.replaceChildren(list);
    this.updateCounts();
    this.mark();
  }

  node(court) {
    const button = el("button", { type: "button", class: "tree-court", dataset: { court: court.code },
      text: localName(court) });
    button.addEventListener("click", () => this.select(court.code));
    const counts = el("span", { class: "tree-counts", dataset: { counts: court.code } });
    this.badges.set(court.code, counts);
    this.buttons.set(court.code, button);
    if (!court.children.length) {
      return el("li", {}, el("span", { class: "tree-row" }, el("span", { class: "tree-leaf" }),
        button, counts));
    }
    const children = el("ul", { id: `tree-${court.code}` },
      ...court.children.map((child) => this.node(child)));
    const toggle = el("button", { type: "button", class: "tree-toggle",
      "aria-controls": children.id, "aria-label": t("tree.below", { name: localName(court) }) });
    const setOpen = (open) => {
      children.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) this.expanded.add(court.code);
      else this.expanded.delete(court.code);
    };
    toggle.addEventListener("click", () => setOpen(children.hidden));
    setOpen(this.expanded.has(court.code));
    return el("li", {}, el("span", { class: "tree-row" }, toggle, button, counts), children);
  }

  updateCounts() {
    const counts = this.index.counts();
    for (const [code, badge] of this.badges) {
      const c = counts.get(code);
      if (!c) continue;
      const parts = [t("tree.total", { n: c.total })];
      for (const state of ["live", "recording", "fault"]) {
        if (c[state]) parts.push(t(`tree.${state}`, { n: c[state] }));
      }
      badge.textContent = parts.join(" · ");
      Object.assign(badge.dataset, { total: c.total, live: c.live, recording: c.recording,
        fault: c.fault, idle: c.idle });
    }
  }

  select(code) {
    this.selected = code;
    this.mark();
    this.onSelect(code);
  }

  mark() {
    for (const [code, button] of this.buttons) {
      button.setAttribute("aria-pressed", String(code === this.selected));
    }
  }
}
