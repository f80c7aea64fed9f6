// What the logged-in user may do, as GET /api/me says; the one policy on the server computed it.
//   me.grants = {action: "*" | [court code, ...]}   ("*": every court)
//   me.limits = {action: "bench" | "disclosed"}    (the target decides too, e.g. a judge's bench)
// A page shows an affordance only where it is granted; the server still decides every request.

// `me` may do `action` on some court, or on `court` when one is given.
export function may(me, action, court = null) {
  const courts = me?.grants?.[action];
  if (!courts) return false;
  return court === null || courts === "*" || courts.includes(court);
}

// The courts where `me` may do `action`: null for every court, else a (maybe empty) list.
export function courtsFor(me, action) {
  const courts = me?.grants?.[action];
  return courts === "*" ? null : courts || [];
}
