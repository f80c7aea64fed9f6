// The clerk console: /clerk?hearing=<id> steers one hearing (proceedings, markers, recording
// state); /clerk alone lists today's hearings of the user's court to choose from.
import { api, events } from "../lib/api.js";
import { addStrings, localName, onLangChange, t } from "../lib/i18n.js";
import { may } from "../lib/grants.js";
import { startShell } from "../lib/shell.js";
import { HearingPanel } from "./hearing.js";
import { MarkerDesk } from "./markers.js";
import { showPicker } from "./picker.js";
import { PublishPanel } from "./publish.js";
import { RecordingPanel } from "./recording.js";

addStrings({
  "clerk.other": ["其他庭审", "Other hearings"],
  "clerk.steer": ["庭审进程", "Proceedings"],
  "clerk.reason": ["事由（可选）", "Reason (optional)"],
  "clerk.gaps": ["未说明的录像中断", "Unexplained recording gaps"],
  "clerk.gapsWhy": ["审判长说明每一处录像中断后才能闭庭。",
    "The presiding judge must explain every recording gap before the hearing can end."],
  "clerk.marks": ["标记", "Markers"],
  "clerk.keys": ["按 B 添加书签，按 S 标记发言人（焦点不在输入框时）。",
    "Press B for a bookmark and S for a speaker marker (when not typing in a field)."],
  "clerk.note": ["书签备注", "Bookmark note"],
  "clerk.speaker": ["发言人", "Speaker"],
  "clerk.bookmark": ["书签 (B)", "Bookmark (B)"],
  "clerk.speakerMark": ["发言人 (S)", "Speaker (S)"],
  "clerk.recording": ["录像", "Recording"],
  "clerk.room": ["法庭状态", "Courtroom"],
  "clerk.site": ["远程场所", "Remote site"],
  "clerk.error": ["出错了：{reason}", "Something went wrong: {reason}"],
});

const $ = (id) => document.getElementById(id);

function fail(err) {
  $("clerk-error").textContent = t("clerk.error", { reason: err.message });
}

async function steer(me, hearingId) {
  $("console").hidden = false;
  const recording = new RecordingPanel({ status: $("room-status"), detail: $("room-detail"),
    feeds: $("rec-feeds"), site: $("site"), siteCode: $("site-code"), siteLink: $("site-link") });
  const markers = new MarkerDesk({ user: me, note: $("marker-note"), speaker: $("marker-speaker"),
    roles: $("speaker-roles"), bookmark: $("mark-bookmark"), speakerButton: $("mark-speaker"),
    result: $("mark-result"), list: $("marker-list") });
  const publisher = new PublishPanel({ panel: $("publish-panel"), feed: $("publish-feed"),
    start: $("publish-start"), stop: $("publish-stop"), state: $("publish-state"),
    preview: $("publish-preview") });
  const hearing = new HearingPanel({ title: $("hearing-title"), state: $("hearing-state"),
    facts: $("hearing-facts"), buttons: $("steer-buttons"), reason: $("steer-reason"),
    result: $("steer-result"), gaps: $("gaps"), gapList: $("gap-list"),
    onChange: () => markers.refresh().catch(() => {}) });

  const h = await api(`/api/hearings/${hearingId}`);
  const room = await api(`/api/courtrooms/${encodeURIComponent(h.room)}`);
  hearing.roomName = `${localName(room)} ${room.code}`;
  hearing.show(h);
  document.title = `${h.case.number} · courtav`;
  await recording.load(room, h.remote_site);
  await markers.load(h.id);
  if (may(me, "room.publish", room.court)) publisher.show(room);

  events((ev) => {
    if (ev.kind.startsWith("hearing.") && ev.data?.hearing === h.id) hearing.load(h.id).catch(fail);
    else if (ev.kind === "recording.marker") markers.applyEvent(ev);
    else if (ev.kind === "recording.started" && ev.room === h.room) markers.refresh().catch(() => {});
    recording.applyEvent(ev);
  }, { onState: (state) => { document.body.dataset.events = state; } });
  onLangChange(() => {
    hearing.roomName = `${localName(room)} ${room.code}`;
    hearing.show(hearing.hearing);
    recording.render();
    recording.showStatus(recording.status.dataset.status, recording.detail.textContent);
    recording.showSite();
    markers.relabel();
  });
}

async function main() {
  const me = await startShell({ action: "hearing.mark" });
  if (!me) return;
  const id = new URLSearchParams(location.search).get("hearing");
  if (id && /^\d{1,18}$/.test(id)) {
    await steer(me, Number(id));
  } else {
    $("picker").hidden = false;
    await showPicker($("picker-list"), me);
    onLangChange(() => showPicker($("picker-list"), me).catch(fail));
  }
  document.body.dataset.ready = "true";
}

main().catch(fail);
