// The court's reception desk: the petition queue live (bus events), accept the next petitioner,
// a two-way video call under the receiving staff member's watermark, the outcome written when
// the session ends.
import { api, el, events } from "../lib/api.js";
import { addStrings, formatTime, localName, onLangChange, t } from "../lib/i18n.js";
import { courtsFor } from "../lib/grants.js";
import { startShell } from "../lib/shell.js";
import { watermark } from "../lib/watermark.js";
import { Call, MEDIA_STRINGS, mediaErrorKey, openCamera } from "../lib/call.js";

addStrings({
  ...MEDIA_STRINGS,
  "rx.queue": ["接访队列", "Petition queue"],
  "rx.court": ["法院", "Court"],
  "rx.count": ["{n} 人排队中", "{n} waiting"],
  "rx.empty": ["暂无排队", "Nobody is waiting"],
  "rx.acceptNext": ["接待下一位", "Accept the next petitioner"],
  "rx.since": ["{time} 取号", "Since {time}"],
  "rx.session": ["视频接访", "Video reception"],
  "rx.petitioner": ["来访人", "Petitioner"],
  "rx.self": ["本机", "This computer"],
  "rx.name": ["姓名", "Name"],
  "rx.phone": ["电话", "Phone"],
  "rx.idNumber": ["身份证号", "ID number"],
  "rx.subject": ["事项", "Subject"],
  "rx.ticket": ["号码", "Number"],
  "rx.outcome": ["接访结果", "Outcome"],
  "rx.end": ["结束接访", "End the session"],
  "rx.needOutcome": ["请先填写接访结果。", "Write the outcome first."],
  "rx.failed": ["操作失败：{reason}", "Failed: {reason}"],
  "call.connecting": ["正在连接…", "Connecting…"],
  "call.connected": ["通话中", "In the call"],
  "call.retrying": ["等待来访人接入…", "Waiting for the petitioner…"],
});

const $ = (id) => document.getElementById(id);
let me = null;
let current = null; // the petition in session with me
let call = null;
let media = null;
let refreshing = null;

function court() {
  return $("rx-court").value;
}

function fact(key, value) {
  return [el("dt", { text: t(key) }), el("dd", { text: value ?? "" })];
}

function item(p) {
  return el("li", { dataset: { petition: p.id } },
    el("span", { class: "rx-pos", text: String(p.position) }),
    el("strong", { text: p.name }),
    el("span", { class: "muted", text: `${p.phone} · ${t("rx.since", { time: formatTime(p.created_at) })}` }),
    el("span", { class: "rx-subject", text: p.subject }));
}

async function refresh() {
  if (!court()) return;
  try {
    const queue = await api(`/api/petitions?court=${encodeURIComponent(court())}`);
    $("queue").replaceChildren(...queue.waiting.map(item));
    $("queue-count").textContent = queue.total_waiting ? t("rx.count", { n: queue.total_waiting }) : t("rx.empty");
    $("accept-next").disabled = !queue.total_waiting || current !== null;
    const mine = queue.in_session.find((p) => p.accepted_by === me.username);
    if (mine && !current) open(mine);
    $("rx-error").textContent = "";
  } catch (err) {
    $("rx-error").textContent = t("rx.failed", { reason: err.message });
  }
}

function refreshSoon() {
  clearTimeout(refreshing);
  refreshing = setTimeout(refresh, 150);
}

async function acceptNext() {
  $("accept-next").disabled = true;
  try {
    open(await api("/api/petitions/next", { method: "POST", body: { court: court() } }));
  } catch (err) {
    $("rx-error").textContent = t("rx.failed", { reason: err.message });
  }
  refresh();
}

async function open(petition) {
  current = petition;
  $("session-panel").hidden = false;
  $("session-panel").dataset.petition = petition.id;
  $("petitioner-facts").replaceChildren(...fact("rx.ticket", String(petition.id)),
    ...fact("rx.name", petition.name), ...fact("rx.phone", petition.phone),
    ...fact("rx.idNumber", petition.id_number), ...fact("rx.subject", petition.subject));
  $("session-error").textContent = "";
  $("session-media-error").textContent = "";
  try {
    media ??= await openCamera();
    $("reception-self").srcObject = media;
  } catch (err) {
    $("session-media-error").textContent = t(mediaErrorKey(err));
    return;
  }
  call = new Call({ media, publishPath: petition.publish, viewPath: petition.view,
    remoteVideo: $("petitioner-video"),
    onState: (direction, state) => { if (direction === "in") $("session-state").textContent = t(`call.${state}`); } });
  call.start();
}

async function end() {
  const outcome = $("outcome").value.trim();
  if (!outcome) {
    $("session-error").textContent = t("rx.needOutcome");
    $("outcome").focus();
    return;
  }
  $("end-session").disabled = true;
  try {
    await api(`/api/petitions/${current.id}/end`, { method: "POST", body: { outcome } });
    await call?.stop();
    call = null;
    current = null;
    $("outcome").value = "";
    $("petitioner-video").srcObject = null;
    $("session-panel").hidden = true;
  } catch (err) {
    $("session-error").textContent = t("rx.failed", { reason: err.message });
  } finally {
    $("end-session").disabled = false;
  }
  refresh();
}

async function start() {
  me = await startShell({ action: "petition.receive" });
  if (!me) return;
  watermark($("petitioner-frame"), me.username);
  const courts = (await api("/api/petitions/courts")).courts;
  const where = courtsFor(me, "petition.receive"); // null: every court
  const mine = where === null ? courts : courts.filter((c) => where.includes(c.code));
  const fill = () => {
    const keep = court() || me.court || "";
    $("rx-court").replaceChildren(...mine.map((c) => el("option", { value: c.code, text: `${localName(c)} (${c.code})` })));
    if (keep) $("rx-court").value = keep;
  };
  fill();
  onLangChange(() => { fill(); refresh(); });
  $("rx-court").addEventListener("change", refresh);
  $("accept-next").addEventListener("click", acceptNext);
  $("end-session").addEventListener("click", end);
  events((event) => { if (event.kind?.startsWith("petition.")) refreshSoon(); },
    { onState: (state) => { if (state === "open") refreshSoon(); } });
  setInterval(refresh, 15000); // a safety net under the event stream
  await refresh();
}

start();
