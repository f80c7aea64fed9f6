// Courts and rooms, read-only (the province file defines them): the tree and a court's rooms.
import { api, el } from "../lib/api.js";
import { localName, t } from "../lib/i18n.js";
import "../lib/labels.js";
import { report } from "./report.js";

async function showRooms(court, button) {
  for (const b of document.querySelectorAll("#court-list button")) {
    b.setAttribute("aria-pressed", String(b === button));
  }
  try {
    const page = await api(`/api/courtrooms?court=${encodeURIComponent(court.code)}&limit=1000`);
    document.getElementById("rooms-caption").textContent =
      t("admin.rooms_of", { court: localName(court), n: page.total });
    document.getElementById("rooms").replaceChildren(...page.items.map((room) => el("tr", {},
      el("td", { text: room.code }), el("td", { text: localName(room) }),
      el("td", { text: room.feeds.join(", ") }), el("td", { text: t(`status.${room.status}`) }))));
  } catch (err) { report(err); }
}

export async function showCourts() {
  const { courts } = await api("/api/courts");
  const list = document.getElementById("court-list");
  const buttons = [];
  const walk = (nodes, depth) => nodes.forEach((court) => {
    const button = el("button", { type: "button", "aria-pressed": "false",
      text: `${"\u00a0\u00a0".repeat(depth)}${localName(court)} (${court.rooms})` });
    button.addEventListener("click", () => showRooms(court, button));
    buttons.push(button);
    walk(court.children, depth + 1);
  });
  walk(courts, 0);
  list.replaceChildren(...buttons);
  if (buttons.length) buttons[0].click();
}
