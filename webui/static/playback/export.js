// Export a range of the open recording (POST /api/recordings/{id}/exports, with a reason) and
// follow it to the download: progress comes from `recording.export` events and, as a fallback,
// from polling the job.
import { api } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import { RangeFields } from "./range.js";

const POLL_MS = 1000;
const MAX_POLLS = 3600; // an hour; the server gives up long before

export class ExportPanel {
  constructor($, player) {
    this.$ = $;
    this.rec = null;
    this.job = null;
    this.polls = 0;
    this.timer = null;
    this.range = new RangeFields({ from: $("x-from"), to: $("x-to"), fromHere: $("x-from-here"),
      toHere: $("x-to-here") }, player);
    $("export-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.submit(); });
  }

  show(rec, allowed) {
    const $ = this.$;
    this.stop();
    this.rec = rec;
    this.job = null;
    $("export-panel").hidden = !allowed;
    $("x-progress").hidden = true;
    $("x-download").hidden = true;
    $("x-state").textContent = "";
    this.range.reset(rec);
  }

  async submit() {
    const $ = this.$;
    const reason = $("x-reason").value.trim();
    if (reason.length < 4) {
      $("x-state").textContent = t("pb.x.needReason");
      $("x-reason").focus();
      return;
    }
    $("x-submit").disabled = true;
    try {
      const job = await api(`/api/recordings/${this.rec.id}/exports`, {
        method: "POST", body: { ...this.range.value(), reason },
      });
      this.update(job);
      this.polls = 0;
      this.poll();
    } catch (err) {
      $("x-state").textContent = t("pb.x.failed", { reason: err.message });
    } finally {
      $("x-submit").disabled = false;
    }
  }

  // A `recording.export` event from the bus.
  onEvent(data) {
    if (!this.job || data.export !== this.job.id || this.finished()) return;
    if (data.state === "done" || data.state === "failed") {
      this.refresh(); // the event has no download link: ask for the job
      return;
    }
    this.update({ ...this.job, state: data.state, percent: data.percent });
  }

  finished() {
    return this.job?.state === "failed" || Boolean(this.job?.file);
  }

  async refresh() {
    try {
      this.update(await api(this.job.url));
    } catch (err) {
      this.$("x-state").textContent = t("pb.x.failed", { reason: err.message });
    }
  }

  poll() {
    clearTimeout(this.timer);
    if (!this.job || this.finished() || this.polls++ > MAX_POLLS) return;
    this.timer = setTimeout(async () => {
      await this.refresh();
      this.poll();
    }, POLL_MS);
  }

  update(job) {
    const $ = this.$;
    if (job.id === this.job?.id && this.finished()) return; // never back from finished
    this.job = job;
    $("x-progress").hidden = false;
    $("x-progress").value = job.percent;
    $("x-state").textContent = job.state === "failed"
      ? t("pb.x.failed", { reason: job.detail || "" })
      : t(`pb.x.${job.state}`, { percent: job.percent });
    if (job.state === "done" && job.file) {
      $("x-download").href = job.file;
      $("x-download").hidden = false;
      $("x-state").textContent = t("pb.x.done", { sha: job.sha256 || "" });
    }
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}
