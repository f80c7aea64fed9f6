// The dashboard: the court tree with counts, a page of room cards, today's schedule and a
// viewer, all kept current by the event stream (/api/events) without reloading.
import { events } from "../lib/api.js";
import { addStrings, onLangChange, t } from "../lib/i18n.js";
import { may } from "../lib/grants.js";
import { startShell } from "../lib/shell.js";
import { PAGE_SIZE, RoomCards } from "./cards.js";
import { CourtIndex } from "./court-index.js";
import { Schedule } from "./schedule.js";
import { CourtTree } from "./tree.js";
import { Viewer } from "./viewer.js";

addStrings({
  "dash.courts": ["法院", "Courts"],
  "dash.rooms": ["法庭", "Courtrooms"],
  "dash.today": ["今日庭审", "Today's hearings"],
  "dash.search": ["搜索", "Search"],
  "dash.searchHint": ["法庭名称或编号", "Courtroom name or code"],
  "dash.status": ["状态", "State"],
  "dash.all": ["全部", "All"],
  "dash.prev": ["上一页", "Previous"],
  "dash.next": ["下一页", "Next"],
  "dash.page": ["第 {page}/{pages} 页", "Page {page} of {pages}"],
  "dash.count": ["共 {n} 间法庭", "{n} courtrooms"],
  "dash.events.open": ["实时更新已连接", "Live updates on"],
  "dash.events.closed": ["实时更新中断，正在重连…", "Live updates lost, reconnecting…"],
  "dash.error": ["加载失败：{reason}", "Could not load: {reason}"],
});

const $ = (id) => document.getElementById(id);
const query = { court: "", status: "", q: "", offset: 0 };

function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

function fail(err) {
  $("dash-error").textContent = t("dash.error", { reason: err.message });
}

async function main() {
  const me = await startShell({ action: "hearing.view" });
  if (!me) return;
  const index = new CourtIndex();
  const schedule = new Schedule($("schedule"), { canSteer: may(me, "hearing.mark") });
  const viewer = new Viewer($("viewer"), { title: $("viewer-title"), players: $("players"),
    close: $("viewer-close"), user: me });
  const cards = new RoomCards($("room-cards"), { index, schedule,
    onOpen: (code) => viewer.open(index.rooms.get(code), index.courtOf(code)).catch(fail) });

  const pager = () => {
    const pages = Math.max(1, Math.ceil(cards.total / PAGE_SIZE));
    const page = Math.floor(query.offset / PAGE_SIZE) + 1;
    $("page-info").textContent = t("dash.page", { page, pages });
    $("room-count").textContent = t("dash.count", { n: cards.total });
    $("page-prev").disabled = query.offset === 0;
    $("page-next").disabled = query.offset + PAGE_SIZE >= cards.total;
  };
  const loadPage = () => cards.load(query).then(pager, fail);
  const loadSchedule = () => schedule.load(query.court).then(() => cards.repaintAll(), fail);
  const tree = new CourtTree($("court-tree"), index, (court) => {
    query.court = court;
    query.offset = 0;
    loadPage();
    loadSchedule();
  });
  // Events that come while the state is being fetched wait, then apply on top of it.
  let held = [];
  const loadAll = async () => {
    held = held || [];
    await index.load();
    if (!query.court && index.roots.length === 1) query.court = index.roots[0].code;
    tree.selected = query.court;
    tree.render();
    await schedule.load(query.court);
    await cards.load(query);
    pager();
    const waiting = held;
    held = null;
    waiting.forEach(onEvent);
    document.body.dataset.ready = "true";
  };

  const treeLater = debounce(() => tree.updateCounts(), 200);
  const pageLater = debounce(loadPage, 500);
  const scheduleLater = debounce(loadSchedule, 500);
  const onEvent = (ev) => {
    if (held) {
      held.push(ev);
      return;
    }
    if (ev.kind === "room.status") {
      if (!index.setStatus(ev.room, ev.data.status, ev.data.detail || "")) return;
      treeLater();
      cards.update(ev.room, { thumb: ev.data.status !== "idle" });
      if (query.status) pageLater(); // the room may have joined or left the filtered page
    } else if (ev.kind === "stream.up") {
      cards.update(ev.room, { thumb: true });
    } else if (ev.kind.startsWith("hearing.") && ev.data?.hearing && ev.data?.state) {
      const room = schedule.applyEvent(ev);
      if (room) cards.update(room);
      else scheduleLater();
    }
  };
  let connected = null;
  events(onEvent, { onState: (state) => {
    const again = state === "open" && connected === "closed";
    connected = state;
    document.body.dataset.events = state;
    $("events-state").textContent = t(`dash.events.${state}`);
    if (again) loadAll().catch(fail); // events were missed while away
  } });

  $("room-q").addEventListener("input", debounce(() => {
    query.q = $("room-q").value.trim();
    query.offset = 0;
    loadPage();
  }, 250));
  $("room-status").addEventListener("change", () => {
    query.status = $("room-status").value;
    query.offset = 0;
    loadPage();
  });
  $("page-prev").addEventListener("click", () => { query.offset = Math.max(0, query.offset - PAGE_SIZE); loadPage(); });
  $("page-next").addEventListener("click", () => { query.offset += PAGE_SIZE; loadPage(); });
  onLangChange(() => {
    tree.render();
    cards.repaintAll();
    schedule.render();
    pager();
    if (connected) $("events-state").textContent = t(`dash.events.${connected}`);
  });
  await loadAll();
}

main().catch(fail);
