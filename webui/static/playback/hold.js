// Legal hold of the open recording (POST /api/recordings/{id}/hold, `recording.hold`:
// presidents, admins): a held recording outlives its retention until the hold is lifted.
// Placing and lifting both need a reason; the server audits it.
import { api } from "../lib/api.js";
import { addStrings, t } from "../lib/i18n.js";

addStrings({
  "pb.h.title": ["保全", "Legal hold"],
  "pb.h.held": ["本录像已保全：保存期满也不会删除。",
    "This recording is on legal hold: it is kept past its retention."],
  "pb.h.free": ["本录像未保全：保存期满后按规定删除。",
    "This recording is not on hold: it is deleted when its retention ends."],
  "pb.h.reason": ["理由（必填）", "Reason (required)"],
  "pb.h.place": ["设为保全", "Place on hold"],
  "pb.h.lift": ["解除保全", "Lift the hold"],
  "pb.h.needReason": ["请填写理由（至少 4 个字）。", "Give a reason (at least 4 characters)."],
  "pb.h.placed": ["已设为保全。", "The hold is placed."],
  "pb.h.lifted": ["已解除保全。", "The hold is lifted."],
  "pb.h.forbidden": ["您无权保全本录像。", "You may not place this recording on hold."],
  "pb.h.failed": ["未能更改保全：{reason}", "The hold was not changed: {reason}"],
});

export class HoldPanel {
  constructor($) {
    this.$ = $;
    this.rec = null;
    $("hold-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.submit(); });
  }

  show(rec, allowed) {
    const $ = this.$;
    this.rec = rec;
    $("hold-panel").hidden = !allowed;
    $("h-reason").value = "";
    $("h-result").textContent = "";
    this.render();
  }

  render() {
    if (!this.rec) return;
    const $ = this.$;
    const held = Boolean(this.rec.legal_hold);
    $("hold-panel").dataset.held = String(held);
    $("h-state").textContent = t(held ? "pb.h.held" : "pb.h.free");
    $("h-submit").textContent = t(held ? "pb.h.lift" : "pb.h.place");
  }

  // A `recording.hold` event: someone (maybe elsewhere) changed it.
  onEvent(data) {
    if (data?.recording !== this.rec?.id) return;
    this.rec = { ...this.rec, legal_hold: Boolean(data.hold) };
    this.render();
  }

  async submit() {
    const $ = this.$;
    const reason = $("h-reason").value.trim();
    if (reason.length < 4) {
      $("h-result").textContent = t("pb.h.needReason");
      $("h-reason").focus();
      return;
    }
    const target = this.rec;
    $("h-submit").disabled = true;
    try {
      const rec = await api(`/api/recordings/${target.id}/hold`, {
        method: "POST", body: { hold: !target.legal_hold, reason } });
      // Another recording may have been opened meanwhile (the hold event replaces `rec`).
      if (this.rec?.id !== target.id) return;
      this.rec = rec;
      $("h-reason").value = "";
      $("h-result").textContent = t(rec.legal_hold ? "pb.h.placed" : "pb.h.lifted");
    } catch (err) {
      if (this.rec?.id !== target.id) return;
      $("h-result").textContent = err.status === 403
        ? t("pb.h.forbidden") : t("pb.h.failed", { reason: err.message });
    } finally {
      $("h-submit").disabled = false;
      this.render();
    }
  }
}
