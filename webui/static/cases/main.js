// The cases and schedule page (/cases): clerks file and edit cases, add parties, book hearings;
// judges, presidents and admins find cases and read the week schedule. `?case=<id>` opens a case.
import { api } from "../lib/api.js";
import { onLangChange } from "../lib/i18n.js";
import { may } from "../lib/grants.js";
import { startShell } from "../lib/shell.js";
import { Booking } from "./booking.js";
import { Courts } from "./courts.js";
import { CaseDetail } from "./detail.js";
import { CaseEditor } from "./editing.js";
import { CaseFiling, PartyForm } from "./filing.js";
import { People } from "./people.js";
import { report } from "./refusals.js";
import { CaseSearch } from "./search.js";
import { dayOf, WeekSchedule } from "./week.js";

const $ = (id) => document.getElementById(id);

async function main() {
  const me = await startShell({ action: "hearing.view" });
  if (!me) return;
  const schedules = may(me, "hearing.schedule");
  const steers = may(me, "hearing.mark"); // the clerk console
  if (!schedules) {
    // Those who may not file or book get no forms at all (the API refuses them anyway).
    for (const id of ["case-new-card", "case-edit-box", "party-new", "booking"]) $(id).remove();
  }
  const courts = await new Courts().load();
  const people = new People($("judge-names"), $("clerk-names"));
  const sites = schedules ? (await api("/api/sites").catch(() => ({ items: [] }))).items : [];

  let detail = null;
  // After a change to the open case: it, the week and the results as they now are.
  const refresh = async () => {
    await detail.reload();
    await Promise.all([week.load(), search.load()]).catch(() => {});
  };
  const week = new WeekSchedule({ court: $("week-court"), room: $("week-room"), day: $("week-day"),
    prev: $("week-prev"), thisWeek: $("week-this"), next: $("week-next"), error: $("week-error"),
    info: $("week-info"), table: $("week-table") },
  { me, courts, canSteer: steers, onOpenCase: (id) => openCase(id) });
  const search = new CaseSearch({ form: $("case-search"), rows: $("case-rows"), prev: $("page-prev"),
    next: $("page-next"), info: $("page-info"), error: $("search-error") }, courts, people,
  (id) => openCase(id));

  const parties = schedules ? new PartyForm({ form: $("party-new"), error: $("party-error"),
    status: $("party-status") }, async () => {
    await detail.reload();
    await search.load().catch(() => {});
  }) : null;
  const editor = schedules ? new CaseEditor({ open: $("case-edit-open"), cancel: $("edit-cancel"),
    save: $("edit-submit"), form: $("case-edit"), error: $("edit-error"),
    status: $("case-edit-status") }, refresh) : null;
  const booking = schedules ? new Booking({ form: $("booking"), title: $("booking-title"),
    submit: $("book-submit"), stopEdit: $("book-cancel-edit"), tz: $("book-tz"),
    publicNote: $("book-public-note"), error: $("book-error"), status: $("book-status") },
  { courts, sites, onBooked: async (h) => {
    people.seen(h);
    await detail.reload();
    await booking.book(detail.item); // ready for the next one, the room kept
    await week.show(dayOf(h.starts_at)); // the week it is in
  } }) : null;

  detail = new CaseDetail({ section: $("case-detail"), title: $("case-title"), cause: $("case-cause"),
    facts: $("case-facts"), blockers: $("case-blockers"), parties: $("party-rows"),
    hearings: $("hearing-rows"), error: $("hearing-error"), status: $("hearing-status"),
    close: $("case-close") },
  { courts, canSchedule: schedules, canSteer: steers,
    onShown: async (item) => {
      people.seen(item);
      parties?.show(item.id);
      editor?.show(item);
      if (!booking) return;
      if (booking.item?.id !== item.id) {
        await booking.book(item);
      } else {
        booking.item = item; // the same case again: keep what is being typed
        booking.relabel();
      }
    },
    onReschedule: (id) => booking?.reschedule(id).catch((err) => report($("book-error"), err)),
    onChanged: async () => {
      await refresh();
      if (booking?.editing) await booking.book(detail.item); // it may be the one just cancelled
    } });

  async function openCase(id) {
    try {
      await detail.open(id);
      report($("cases-error"), null);
    } catch (err) {
      report($("cases-error"), err);
    }
  }

  let filing = null;
  if (schedules) {
    filing = new CaseFiling({ form: $("case-new"), hint: $("new-number-hint"), error: $("new-error"),
      status: $("new-status") }, { me, courts, onFiled: async (item) => {
      await openCase(item.id);
      await search.load().catch(() => {});
    } });
    $("case-new-card").hidden = false;
  }
  courts.fill($("search-court"), "");
  await Promise.all([search.load().catch(() => {}), week.start().catch(() => {}), people.load(me)]);
  const asked = new URLSearchParams(location.search).get("case");
  if (asked && /^\d{1,18}$/.test(asked)) await openCase(Number(asked));

  // The shell has already translated the marked elements; what the scripts drew is drawn again.
  onLangChange(() => {
    courts.fill($("search-court"));
    courts.fill($("week-court"));
    filing?.relabel();
    search.render();
    detail.render();
    week.fillRooms().then(() => week.render()).catch(() => {});
    if (booking?.item) booking.fillChoices(booking.editing).then(() => booking.relabel()).catch(() => {});
  });
  document.body.dataset.ready = "true";
}

main().catch((err) => report($("cases-error"), err));
