// Users and roles: search, create, change role/court/name/enabled, reset a password.
import { api, el } from "../lib/api.js";
import { onLangChange, t } from "../lib/i18n.js";
import { report } from "./report.js";

// The roles an account may have, as /api/me says (role -> how far it reaches).
let scopes = {};
const roleOptions = () => Object.keys(scopes).map((r) => el("option", { value: r, text: t(`role.${r}`) }));
// A role that reaches everywhere belongs to no court.
const courtFor = (role, code) => (scopes[role] === "everywhere" ? null : code.trim() || null);

function roleSelect(value) {
  const select = el("select", { "data-i18n-label": "admin.role" },
    ...roleOptions());
  select.value = value;
  return select;
}

function row(user) {
  const name = el("input", { value: user.display_name, maxlength: "128",
    "aria-label": `${t("admin.name")} ${user.username}` });
  const role = roleSelect(user.role);
  role.setAttribute("aria-label", `${t("admin.role")} ${user.username}`);
  const court = el("input", { value: user.court || "", list: "court-codes", size: "8",
    "aria-label": `${t("admin.court")} ${user.username}` });
  const active = el("input", { type: "checkbox", "aria-label": `${t("admin.active")} ${user.username}` });
  active.checked = user.active;
  const save = el("button", { type: "button", text: t("admin.save") });
  const reset = el("button", { type: "button", text: t("admin.reset_password") });
  const status = el("span", { role: "status" });
  save.addEventListener("click", async () => {
    try {
      const body = { display_name: name.value, role: role.value,
        court: courtFor(role.value, court.value) };
      if (active.checked !== user.active) body.active = active.checked;
      Object.assign(user, await api(`/api/users/${encodeURIComponent(user.username)}`,
        { method: "PATCH", body }));
      status.textContent = t("admin.saved");
      report(null);
    } catch (err) { report(err); }
  });
  reset.addEventListener("click", async () => {
    const password = prompt(t("admin.new_password", { name: user.username }));
    if (!password) return;
    try {
      await api(`/api/users/${encodeURIComponent(user.username)}/password`,
        { method: "POST", body: { password } });
      status.textContent = t("admin.saved");
      report(null);
    } catch (err) { report(err); }
  });
  return el("tr", { dataset: { user: user.username } },
    el("td", { text: user.username }), el("td", {}, name), el("td", {}, role),
    el("td", {}, court), el("td", {}, active), el("td", {}, save, " ", reset, " ", status));
}

async function load() {
  const q = document.getElementById("user-q").value.trim();
  const page = await api(`/api/users?limit=500${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  document.getElementById("users").replaceChildren(...page.items.map(row));
}

export async function showUsers(me) {
  scopes = me.roles || {};
  const newRole = document.getElementById("new-role");
  // A new account reaches its own court unless chosen otherwise.
  const narrowest = Object.keys(scopes).find((r) => scopes[r] === "own court") || "";
  const fillRoles = () => {
    const value = newRole.value || narrowest;
    newRole.replaceChildren(...roleOptions());
    newRole.value = value;
  };
  fillRoles();
  onLangChange(() => { fillRoles(); load().catch(report); });
  document.getElementById("user-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    load().catch(report);
  });
  const form = document.getElementById("user-new");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { username: data.username.trim(), role: data.role, password: data.password,
      display_name: data.display_name, court: courtFor(data.role, data.court) };
    try {
      const user = await api("/api/users", { method: "POST", body });
      document.getElementById("user-new-status").textContent = t("admin.created", { name: user.username });
      form.reset();
      report(null);
      await load();
    } catch (err) { report(err); }
  });
  await load();
}
