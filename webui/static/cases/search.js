// Case search (GET /api/cases): number, party name, status and court, a page at a time.
import { api, el } from "../lib/api.js";
import { addStrings, t } from "../lib/i18n.js";
import { report } from "./refusals.js";
import { caseStatus } from "./words.js";

addStrings({
  "cases.pages": ["分页", "Pages"],
  "cases.prev": ["上一页", "Previous page"],
  "cases.next": ["下一页", "Next page"],
  "cases.range": ["第 {first}–{last} 条，共 {total} 条", "{first}–{last} of {total}"],
  "cases.noResults": ["没有符合条件的案件。", "No case matches."],
  "cases.open": ["查看案件 {number}", "Open case {number}"],
});

const PAGE = 20;

export class CaseSearch {
  // parts: {form, rows, prev, next, info, error}; onOpen(caseId) shows a case.
  constructor(parts, courts, people, onOpen) {
    Object.assign(this, parts);
    this.courts = courts;
    this.people = people;
    this.onOpen = onOpen;
    this.offset = 0;
    this.page = null;
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.offset = 0;
      this.load().catch(() => {});
    });
    this.prev.addEventListener("click", () => this.turn(-PAGE));
    this.next.addEventListener("click", () => this.turn(PAGE));
  }

  turn(step) {
    this.offset = Math.max(0, this.offset + step);
    this.load().catch(() => {});
  }

  query() {
    const data = new FormData(this.form);
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(this.offset) });
    for (const key of ["number", "party", "status", "court"]) {
      const value = String(data.get(key) || "").trim();
      if (value) params.set(key, value);
    }
    return params;
  }

  async load() {
    try {
      this.page = await api(`/api/cases?${this.query()}`);
      report(this.error, null);
    } catch (err) {
      report(this.error, err, this.form);
      throw err;
    }
    this.page.items.forEach((c) => this.people.seen(c));
    this.render();
  }

  render() {
    if (!this.page) return;
    const { items, total, offset } = this.page;
    if (!items.length) {
      this.rows.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "muted", text: t("cases.noResults") })));
    } else {
      this.rows.replaceChildren(...items.map((c) => this.row(c)));
    }
    this.info.textContent = total ? t("cases.range", { first: offset + 1,
      last: offset + items.length, total }) : "";
    this.prev.disabled = offset === 0;
    this.next.disabled = offset + items.length >= total;
  }

  row(c) {
    const link = el("a", { href: `/cases?case=${c.id}`, text: c.number,
      "aria-label": t("cases.open", { number: c.number }) });
    link.addEventListener("click", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      this.onOpen(c.id);
    });
    const names = (c.parties || []).map((p) => p.name).join("、");
    return el("tr", { dataset: { case: c.id } },
      el("th", { scope: "row" }, link),
      el("td", { class: "case-cause", text: c.cause }),
      el("td", { text: this.courts.name(c.court) }),
      el("td", { text: caseStatus(c.status) }),
      el("td", { text: c.presiding_judge || t("cases.none") }),
      el("td", { text: names || t("cases.none") }));
  }
}
