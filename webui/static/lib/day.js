// The viewer's own day, for the schedule's day view: {day: "YYYY-MM-DD", tz: "+08:00"}.
export function today(now = new Date()) {
  const pad = (n) => String(Math.abs(n)).padStart(2, "0");
  const off = -now.getTimezoneOffset();
  const day = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return { day, tz: `${off < 0 ? "-" : "+"}${pad(Math.trunc(off / 60))}:${pad(off % 60)}` };
}
