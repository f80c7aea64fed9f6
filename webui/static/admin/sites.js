// Remote sites (detention centres, prisons): register, issue a new credential, disable.
import { api, el } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import { report } from "./report.js";

function showCredential(site) {
  document.getElementById("credential-value").textContent = site.credential;
  const box = document.getElementById("credential");
  box.hidden = false;
  box.focus?.();
}

function row(site) {
  const rotate = el("button", { type: "button", text: t("admin.rotate") });
  const toggle = el("button", { type: "button", text: t(site.enabled ? "admin.disable" : "admin.enable") });
  rotate.addEventListener("click", async () => {
    try {
      showCredential(await api(`/api/sites/${encodeURIComponent(site.code)}/credential`, { method: "POST" }));
      report(null);
    } catch (err) { report(err); }
  });
  toggle.addEventListener("click", async () => {
    try {
      await api(`/api/sites/${encodeURIComponent(site.code)}`,
        { method: "PATCH", body: { enabled: !site.enabled } });
      await load();
    } catch (err) { report(err); }
  });
  return el("tr", { dataset: { site: site.code } },
    el("td", { text: site.code }), el("td", { text: site.name }),
    el("td", { text: t(`site.${site.kind}`) }), el("td", { text: site.court }),
    el("td", { text: site.enabled ? "✓" : "—" }), el("td", {}, rotate, " ", toggle));
}

async function load() {
  const { items } = await api("/api/sites");
  document.getElementById("sites").replaceChildren(...items.map(row));
}

export async function showSites() {
  const form = document.getElementById("site-new");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    try {
      showCredential(await api("/api/sites", { method: "POST", body: {
        code: data.code.trim(), name: data.name.trim(), kind: data.kind, court: data.court.trim() } }));
      form.reset();
      report(null);
      await load();
    } catch (err) { report(err); }
  });
  await load();
}
