// Without ?hearing=<id>: today's hearings of the user's court to choose from.
import { api, el } from "../lib/api.js";
import { today } from "../lib/day.js";
import { addStrings, formatTime, localName, t } from "../lib/i18n.js";
import { hearingState } from "../lib/labels.js";

addStrings({
  "clerk.pick": ["选择今日庭审", "Choose one of today's hearings"],
  "clerk.none": ["今日没有可以控制的庭审。", "There is no hearing today to steer."],
  "clerk.mine": ["（由我记录）", "(my hearing)"],
});

export async function showPicker(list, me) {
  const { day, tz } = today();
  const params = new URLSearchParams({ day, tz });
  if (me.court) params.set("court", me.court);
  const body = await api(`/api/schedule?${params}`);
  const items = body.rooms.flatMap((room) => room.hearings.map((h) => ({ room, h })))
    .sort((a, b) => a.h.starts_at.localeCompare(b.h.starts_at));
  if (!items.length) {
    list.replaceChildren(el("li", { class: "muted", text: t("clerk.none") }));
    return;
  }
  list.replaceChildren(...items.map(({ room, h }) => el("li", { dataset: { hearing: h.id } },
    el("a", { href: `/clerk?hearing=${h.id}` },
      el("span", { class: "picker-time", text: `${formatTime(h.starts_at)}–${formatTime(h.ends_at)}` }),
      el("strong", { text: h.case.number }),
      el("span", { text: `${localName(room)} ${room.room}` }),
      el("span", { class: `hearing-state hearing-${h.state}`, text: hearingState(h.state) }),
      h.clerk === me.username ? el("span", { class: "muted", text: t("clerk.mine") }) : null))));
}
