// The login page: log in (POST /api/login sets the session cookie), then go to the user's page.
import { api, currentUser } from "../lib/api.js";
import { addStrings, t } from "../lib/i18n.js";
import { homeFor, visitorShell } from "../lib/shell.js";

addStrings({
  "login.title": ["登录", "Log in"],
  "login.username": ["用户名", "Username"],
  "login.password": ["密码", "Password"],
  "login.submit": ["登录", "Log in"],
  "login.public": ["公开庭审（无需登录）", "Public hearings (no login needed)"],
  "login.missing": ["请输入用户名和密码。", "Enter your username and password."],
  "login.failed": ["登录失败：{reason}", "Login failed: {reason}"],
  "login.wrong": ["用户名或密码不正确。", "Wrong username or password."],
  "login.locked": ["尝试次数过多，请稍后再试。", "Too many attempts; try again later."],
});

const form = document.getElementById("login");
const error = document.getElementById("login-error");

// Only a path on this site: never an absolute or protocol-relative address from the query.
function nextPage(me) {
  const next = new URLSearchParams(location.search).get("next") || "";
  const safe = next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\");
  return safe && next !== "/" ? next : homeFor(me);
}

async function submit(ev) {
  ev.preventDefault();
  const data = new FormData(form);
  const username = String(data.get("username") || "").trim();
  const password = String(data.get("password") || "");
  if (!username || !password) {
    error.textContent = t("login.missing");
    return;
  }
  const button = document.getElementById("login-submit");
  button.disabled = true;
  error.textContent = "";
  form.setAttribute("aria-busy", "true");
  try {
    const body = await api("/api/login", { method: "POST", body: { username, password } });
    location.assign(nextPage(body.user));
  } catch (err) {
    const known = { 401: "login.wrong", 429: "login.locked" }[err.status];
    error.textContent = known ? t(known) : t("login.failed", { reason: err.message });
    document.getElementById("login-password").select();
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

async function start() {
  visitorShell({ langId: "login-lang" });
  form.addEventListener("submit", submit);
  const me = await currentUser().catch(() => null);
  if (me) location.replace(nextPage(me));
}

start();
