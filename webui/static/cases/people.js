// Suggestions for the judge and clerk fields: there is no staff listing for clerks, so the
// usernames come from the cases and hearings already seen (and from /api/users for admins).
// The fields stay free text; the server checks each name against the court's staff.
import { api, el } from "../lib/api.js";
import { may } from "../lib/grants.js";

const since = (days) => new Date(Date.now() - days * 86_400_000).toISOString();

export class People {
  constructor(judges, clerks) {
    this.lists = { judge: judges, clerk: clerks };
    this.names = { judge: new Set(), clerk: new Set() };
  }

  add(role, ...names) {
    const set = this.names[role];
    const before = set.size;
    for (const name of names) if (name) set.add(name);
    if (set.size !== before) {
      this.lists[role].replaceChildren(...[...set].sort().map((value) => el("option", { value })));
    }
  }

  // Names from a case or a hearing as the API returns them.
  seen(item) {
    this.add("judge", item.presiding_judge, ...(item.panel || []));
    this.add("clerk", item.clerk);
  }

  async load(me) {
    if (me.role in this.lists) this.add(me.role, me.username); // a judge's or clerk's own name
    const asks = [
      api("/api/cases?limit=200").then((page) => page.items.forEach((c) => this.seen(c))),
      api(`/api/hearings?limit=500&from=${encodeURIComponent(since(180))}`)
        .then((page) => page.items.forEach((h) => this.seen(h))),
    ];
    if (may(me, "user.manage")) {
      for (const role of Object.keys(this.lists)) {
        asks.push(api(`/api/users?role=${role}&limit=1000`).then((page) =>
          this.add(role, ...page.items.filter((u) => u.active).map((u) => u.username))));
      }
    }
    // Suggestions only: a refusal here must not stop the page.
    await Promise.allSettled(asks);
  }
}
