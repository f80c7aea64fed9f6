// The administration page: users and roles, remote sites, courts and rooms, effective settings,
// the province's nodes.
import { startShell } from "../lib/shell.js";
import { addStrings, applyTranslations, onLangChange, t } from "../lib/i18n.js";
import { api } from "../lib/api.js";
import { showUsers } from "./users.js";
import { showSites } from "./sites.js";
import { showCourts } from "./courts.js";
import { showSettings } from "./settings.js";
import { showNodes } from "./nodes.js";
import { report } from "./report.js";

addStrings({
  "admin.sections": ["管理分区", "Sections"],
  "admin.users": ["用户与角色", "Users and roles"],
  "admin.sites": ["远程场所", "Remote sites"],
  "admin.courts": ["法院与法庭", "Courts and rooms"],
  "admin.settings": ["保存期限与告警阈值", "Retention and alert thresholds"],
  "admin.search": ["搜索", "Search"],
  "admin.find": ["查找", "Find"],
  "admin.username": ["用户名", "User name"],
  "admin.name": ["名称", "Name"],
  "admin.role": ["角色", "Role"],
  "admin.court": ["法院", "Court"],
  "admin.active": ["启用", "Enabled"],
  "admin.actions": ["操作", "Actions"],
  "admin.new_user": ["新建用户", "New user"],
  "admin.password": ["初始密码", "Initial password"],
  "admin.create": ["创建", "Create"],
  "admin.created": ["已创建 {name}", "Created {name}"],
  "admin.save": ["保存", "Save"],
  "admin.saved": ["已保存", "Saved"],
  "admin.reset_password": ["重置密码", "Reset password"],
  "admin.new_password": ["{name} 的新密码（至少 12 位）", "New password for {name} (12+ characters)"],
  "admin.code": ["代码", "Code"],
  "admin.kind": ["类型", "Kind"],
  "admin.new_site": ["登记远程场所", "Register a remote site"],
  "admin.rotate": ["更换凭证", "New credential"],
  "admin.disable": ["停用", "Disable"],
  "admin.enable": ["启用", "Enable"],
  "admin.credential_once": ["接入凭证只显示这一次，请立即交给该场所：",
    "The credential is shown this once; hand it to the site now:"],
  "admin.courts_note": ["法院、法庭与画面由 configs/province.toml 定义，修改后重启生效。",
    "Courts, rooms and feeds are defined in configs/province.toml; a change takes effect on restart."],
  "admin.feeds": ["画面", "Feeds"],
  "admin.status": ["状态", "Status"],
  "admin.rooms_of": ["{court} 的法庭（{n}）", "Rooms of {court} ({n})"],
  "admin.settings_note": ["以下为服务器当前生效的设置（配置文件与环境变量），修改配置后重启生效。",
    "The settings the server runs with now (config file and environment); change the config and restart."],
  "admin.nodes": ["节点", "Nodes"],
  "admin.refresh": ["刷新", "Refresh"],
  "admin.node": ["节点", "Node"],
  "admin.node_self": ["（本节点）", "(this node)"],
  "admin.node_url": ["地址", "URL"],
  "admin.last_beat": ["最近心跳", "Last beat"],
  "admin.started": ["启动时间", "Started"],
  "admin.streams": ["直播/流", "Live / streams"],
  "admin.viewers": ["观看", "Viewers"],
  "admin.recordings": ["录制", "Recordings"],
  "admin.cpu": ["CPU 核", "CPU cores"],
  "admin.bitrate": ["输入码率", "Bitrate in"],
  "node.alive": ["在线", "Alive"],
  "node.dead": ["失联", "Dead"],
  "node.stopped": ["已停止", "Stopped"],
  "site.detention_centre": ["看守所", "Detention centre"],
  "site.prison": ["监狱", "Prison"],
});

const TABS = { users: showUsers, sites: showSites, courts: showCourts, settings: showSettings,
  nodes: showNodes };
const shown = new Set();
let me = null;


async function select(name, focus = false) {
  for (const key of Object.keys(TABS)) {
    const tab = document.getElementById(`tab-${key}`);
    const on = key === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    document.getElementById(`panel-${key}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  history.replaceState(null, "", `#${name}`);
  report(null);
  if (!shown.has(name)) {
    shown.add(name);
    try {
      await TABS[name](me);
    } catch (err) {
      shown.delete(name);
      report(err);
    }
  }
}

async function main() {
  me = await startShell({ action: "user.manage" });
  if (!me) return;
  const names = Object.keys(TABS);
  for (const name of names) {
    const tab = document.getElementById(`tab-${name}`);
    tab.addEventListener("click", () => select(name));
    // Arrow keys move between tabs (WAI-ARIA tabs pattern).
    tab.addEventListener("keydown", (ev) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (!step) return;
      ev.preventDefault();
      select(names[(names.indexOf(name) + step + names.length) % names.length], true);
    });
  }
  const codes = document.getElementById("court-codes");
  const { courts } = await api("/api/courts");
  const walk = (nodes) => nodes.forEach((c) => {
    const option = document.createElement("option");
    option.value = c.code;
    option.textContent = c.name_zh;
    codes.append(option);
    walk(c.children);
  });
  walk(courts);
  onLangChange(() => applyTranslations());
  const first = location.hash.slice(1);
  await select(names.includes(first) ? first : "users");
  document.body.dataset.ready = "1";
}

main().catch((err) => report(err));
