// Changing a case after filing (PATCH /api/cases/{id}): cause, presiding judge, clerk, status
// and the ground for hearing it in private. Only what changed is sent; an emptied judge or
// clerk is sent as null, which clears it. Refusals are said next to the form (refusals.js).
import { api } from "../lib/api.js";
import { addStrings, t } from "../lib/i18n.js";
import { report } from "./refusals.js";

addStrings({
  "caseEdit.open": ["修改案件信息", "Edit the case"],
  "caseEdit.title": ["修改案件信息", "Edit the case"],
  "caseEdit.numberFixed": ["案号不可更改；如案号有误，请重新立案。",
    "The case number never changes; if it is wrong, file a new case."],
  "caseEdit.peopleHint": ["填写用户名，须为本院在职的法官或书记员；留空即取消指定。",
    "User names of active judges or clerks of the court; leave empty to name nobody."],
  "caseEdit.restrictionHint": ["不公开审理的案件，其待开庭审将移出公开排期，正在进行的直播随即停止。",
    "A case heard in private leaves the public schedule; a live broadcast of it stops."],
  "caseEdit.save": ["保存修改", "Save changes"],
  "caseEdit.cancel": ["取消", "Cancel"],
  "caseEdit.saved": ["已保存对 {number} 的修改。", "Changes to {number} are saved."],
  "caseEdit.unchanged": ["没有修改任何内容。", "Nothing was changed."],
});

const optional = (value) => value.trim() || null;

export class CaseEditor {
  // parts: {open, cancel, save, form, error, status}; onSaved(case) shows the case again.
  constructor(parts, onSaved) {
    Object.assign(this, parts);
    this.onSaved = onSaved;
    this.item = null;
    this.open.addEventListener("click", () => this.toggle(this.form.hidden));
    this.cancel.addEventListener("click", () => this.toggle(false));
    this.form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") this.toggle(false); });
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.submit().catch(() => {});
    });
  }

  // The case shown now; another case closes the form, the same one keeps what is typed.
  show(item) {
    const other = this.item?.id !== item.id;
    this.item = item;
    if (other) {
      this.status.textContent = "";
      this.toggle(false, { focus: false });
    }
  }

  toggle(open, { focus = true } = {}) {
    this.form.hidden = !open;
    this.open.setAttribute("aria-expanded", String(open));
    report(this.error, null, this.form);
    if (open) {
      this.fill();
      this.status.textContent = "";
      if (focus) this.form.elements.cause.focus();
    } else if (focus && this.form.contains(document.activeElement)) {
      this.open.focus();
    }
  }

  fill() {
    const c = this.item;
    const f = this.form.elements;
    f.cause.value = c.cause || "";
    f.presiding_judge.value = c.presiding_judge || "";
    f.clerk.value = c.clerk || "";
    f.status.value = c.status;
    for (const radio of f.restriction) radio.checked = radio.value === (c.restriction || "");
  }

  // The fields whose value differs from the case as last read.
  changes() {
    const c = this.item;
    const f = this.form.elements;
    const now = { cause: f.cause.value, presiding_judge: optional(f.presiding_judge.value),
      clerk: optional(f.clerk.value), status: f.status.value, restriction: f.restriction.value || null };
    const was = { cause: c.cause || "", presiding_judge: c.presiding_judge || null,
      clerk: c.clerk || null, status: c.status, restriction: c.restriction || null };
    return Object.fromEntries(Object.entries(now).filter(([key, value]) => value !== was[key]));
  }

  async submit() {
    const body = this.changes();
    if (!Object.keys(body).length) {
      report(this.error, null, this.form);
      this.status.textContent = t("caseEdit.unchanged");
      return;
    }
    this.status.textContent = "";
    this.save.disabled = true;
    let updated;
    try {
      updated = await api(`/api/cases/${this.item.id}`, { method: "PATCH", body });
    } catch (err) {
      report(this.error, err, this.form);
      throw err;
    } finally {
      this.save.disabled = false;
    }
    this.item = updated;
    this.toggle(false);
    this.status.textContent = t("caseEdit.saved", { number: updated.number });
    await this.onSaved(updated);
  }
}
