// Withheld portions of the open recording (`recording.seal`: presidents, admins, judges on the
// hearing's bench): mark a range confidential or sealed with a reason, list the portions, lift
// one. The panel shows only when GET .../portions answers the user: the server decides who
// may; the grant in /api/me only spares the others a request that would be refused.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, t } from "../lib/i18n.js";
import { RangeFields } from "./range.js";

addStrings({
  "pb.s.title": ["不公开片段", "Withheld portions"],
  "pb.s.level": ["级别", "Level"],
  "pb.s.confidential": ["保密：仅本案审判人员可见", "Confidential: the hearing's bench only"],
  "pb.s.sealed": ["封存：仅院领导、管理员和本案法官可见",
    "Sealed: presidents, admins and the hearing's judges only"],
  "pb.s.reason": ["理由（必填）", "Reason (required)"],
  "pb.s.submit": ["标记片段", "Withhold the range"],
  "pb.s.needReason": ["请填写理由（至少 4 个字）。", "Give a reason (at least 4 characters)."],
  "pb.s.added": ["已标记：{level} {from} – {to}", "Withheld: {level} {from} – {to}"],
  "pb.s.failed": ["未能标记：{reason}", "Not withheld: {reason}"],
  "pb.s.list": ["已标记的片段", "Withheld so far"],
  "pb.s.none": ["本录像没有不公开片段。", "Nothing of this recording is withheld."],
  "pb.s.by": ["{who} 于 {when}：{reason}", "{who} on {when}: {reason}"],
  "pb.s.lift": ["解除", "Lift"],
  "pb.s.liftFor": ["解除 {from} – {to} 的{level}", "Lift the {level} portion {from} – {to}"],
  "pb.s.liftReason": ["解除理由（可选）", "Reason (optional)"],
  "pb.s.liftConfirm": ["确认解除", "Lift it"],
  "pb.s.back": ["返回", "Back"],
  "pb.s.lifted": ["已解除：{from} – {to}", "Lifted: {from} – {to}"],
  "pb.s.liftFailed": ["未能解除：{reason}", "Not lifted: {reason}"],
  "pb.level.confidential": ["保密", "confidential"],
  "pb.level.sealed": ["封存", "sealed"],
});

const REASON_MIN = 4;
const when = (iso) => formatTime(iso, { seconds: true });
const stamp = (p) => ({ level: t(`pb.level.${p.level}`), from: when(p.from), to: when(p.to) });

export class PortionPanel {
  // onChanged(portions): the list as it now stands (the timeline draws it).
  constructor($, player, { onChanged }) {
    this.$ = $;
    this.onChanged = onChanged;
    this.rec = null;
    this.items = [];
    this.range = new RangeFields({ from: $("s-from"), to: $("s-to"), fromHere: $("s-from-here"),
      toHere: $("s-to-here") }, player);
    $("seal-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.submit(); });
  }

  // Shows the panel for `rec` if the server lets this user list its portions.
  async show(rec, mayAsk) {
    const $ = this.$;
    this.rec = rec;
    this.set([]);
    $("seal-panel").hidden = true;
    $("pb-key-portions").hidden = true;
    $("s-state").textContent = "";
    $("s-reason").value = "";
    this.range.reset(rec);
    if (!mayAsk) return;
    let page;
    try {
      page = await api(`/api/recordings/${rec.id}/portions`);
    } catch (err) {
      if (err.status === 403 || err.status === 404) return; // not on this hearing's bench
      throw err;
    }
    if (this.rec !== rec) return; // another recording was opened meanwhile
    $("seal-panel").hidden = false;
    $("pb-key-portions").hidden = false;
    this.set(page.items);
  }

  // Asks again (after an event from another user, or a change here).
  async reload() {
    if (!this.rec || this.$("seal-panel").hidden) return;
    const rec = this.rec;
    const page = await api(`/api/recordings/${rec.id}/portions`);
    if (this.rec === rec) this.set(page.items);
  }

  set(items) {
    this.items = items;
    this.render();
    this.onChanged(items);
  }

  render() {
    const list = this.$("portion-list");
    if (!this.items.length) {
      list.replaceChildren(el("li", { class: "muted", text: t("pb.s.none") }));
      return;
    }
    list.replaceChildren(...this.items.map((p) => this.row(p)));
  }

  row(p) {
    const s = stamp(p);
    const actions = el("span", { class: "pb-portion-actions" });
    const lift = el("button", { type: "button", dataset: { lift: p.id }, text: t("pb.s.lift"),
      "aria-label": t("pb.s.liftFor", s) });
    lift.addEventListener("click", () => this.askLift(p, actions));
    actions.append(lift);
    return el("li", { dataset: { portion: p.id, level: p.level } },
      el("span", { class: `pb-level pb-level-${p.level}`, text: s.level }),
      el("time", { datetime: p.from, text: s.from }), " – ",
      el("time", { datetime: p.to, text: s.to }),
      el("span", { class: "pb-sub", text: t("pb.s.by", {
        who: p.created_by, when: formatTime(p.created_at, { date: true }), reason: p.reason }) }),
      actions);
  }

  // An inline confirmation with an optional reason; Escape or Back restores the button.
  askLift(p, cell) {
    const before = [...cell.childNodes];
    const reason = el("input", { maxlength: "500", id: `lift-reason-${p.id}`,
      "aria-label": t("pb.s.liftReason"), placeholder: t("pb.s.liftReason") });
    const confirm = el("button", { type: "button", class: "danger", dataset: { confirmLift: p.id },
      text: t("pb.s.liftConfirm"), "aria-label": t("pb.s.liftFor", stamp(p)) });
    const back = el("button", { type: "button", text: t("pb.s.back") });
    const restore = () => {
      cell.replaceChildren(...before);
      cell.querySelector("[data-lift]")?.focus();
    };
    back.addEventListener("click", restore);
    cell.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && cell.contains(confirm)) restore(); });
    confirm.addEventListener("click", () => this.lift(p, reason, confirm));
    cell.replaceChildren(reason, confirm, back);
    reason.focus();
  }

  async lift(p, reasonInput, button) {
    const state = this.$("s-state");
    const reason = reasonInput.value.trim();
    if (reason && reason.length < REASON_MIN) {
      state.textContent = t("pb.s.needReason");
      reasonInput.focus();
      return;
    }
    const rec = this.rec;
    button.disabled = true;
    try {
      await api(`/api/recordings/${rec.id}/portions/${p.id}`, {
        method: "DELETE", body: reason ? { reason } : undefined });
    } catch (err) {
      button.disabled = false;
      state.textContent = t("pb.s.liftFailed", { reason: err.message });
      return;
    }
    if (this.rec !== rec) return;
    state.textContent = t("pb.s.lifted", stamp(p));
    this.set(this.items.filter((item) => item.id !== p.id));
    this.$("s-reason").focus();
  }

  async submit() {
    const $ = this.$;
    const reason = $("s-reason").value.trim();
    if (reason.length < REASON_MIN) {
      $("s-state").textContent = t("pb.s.needReason");
      $("s-reason").focus();
      return;
    }
    const level = $("seal-form").elements.level.value;
    const rec = this.rec;
    $("s-submit").disabled = true;
    try {
      const added = await api(`/api/recordings/${rec.id}/portions`, {
        method: "POST", body: { level, ...this.range.value(), reason } });
      if (this.rec !== rec) return; // another recording was opened meanwhile
      $("s-state").textContent = t("pb.s.added", stamp(added));
      $("s-reason").value = "";
      this.set([...this.items, added].sort((a, b) => a.from.localeCompare(b.from) || a.id - b.id));
    } catch (err) {
      $("s-state").textContent = t("pb.s.failed", { reason: err.message });
    } finally {
      $("s-submit").disabled = false;
    }
  }
}
