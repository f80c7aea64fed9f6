// The effective settings, read-only: retention, probe thresholds, hearing limits, webhooks.
import { api, el } from "../lib/api.js";

function table(title, values) {
  const rows = Object.entries(values).map(([key, value]) => [
    el("dt", { text: key }),
    el("dd", { text: typeof value === "object" && value !== null ? JSON.stringify(value) : String(value) }),
  ]).flat();
  return el("section", {}, el("h3", { text: title }), el("dl", {}, ...rows));
}

export async function showSettings() {
  const s = await api("/api/admin/settings");
  const parts = [
    table("recorder", { segment_s: s.recorder.segment_s, analyze: s.recorder.analyze,
      manifest_signing: s.recorder.manifest_signing }),
    table("recorder.retention", s.recorder.retention),
    ...Object.entries(s.probes).map(([feed, values]) => table(`probes.${feed}`, values)),
    table("hearing", s.hearing),
    table("webhooks", s.webhooks),
    table("auth", s.auth),
  ];
  const box = document.getElementById("settings");
  box.className = "admin-settings";
  box.replaceChildren(...parts);
}
