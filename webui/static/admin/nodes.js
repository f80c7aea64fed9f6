// The province's nodes: state, last heartbeat and load of every `courtav serve`.
import { api, el } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import { report } from "./report.js";

const time = (at) => (at ? new Date(at).toLocaleString() : "—");

function row(node) {
  const load = node.load || {};
  const state = el("td", { text: t(`node.${node.state}`), class: `node-${node.state}` });
  return el("tr", { dataset: { node: node.id, state: node.state } },
    el("td", { text: node.self ? `${node.id} ${t("admin.node_self")}` : node.id }),
    el("td", { text: node.url }), state,
    el("td", { text: time(node.last_beat_at) }), el("td", { text: time(node.started_at) }),
    el("td", { text: `${load.live_streams ?? 0} / ${load.streams ?? 0}` }),
    el("td", { text: String(load.viewers ?? 0) }),
    el("td", { text: String(load.recordings ?? "—") }),
    el("td", { text: String(load.cpu_cores ?? "—") }),
    el("td", { text: `${Math.round((load.bitrate_in_bps ?? 0) / 1000)} kbit/s` }));
}

async function load() {
  const { nodes } = await api("/api/nodes");
  document.getElementById("nodes").replaceChildren(...nodes.map(row));
}

export async function showNodes() {
  document.getElementById("nodes-refresh").addEventListener("click", () => {
    load().then(() => report(null), report);
  });
  await load();
}
