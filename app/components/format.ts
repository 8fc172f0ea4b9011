/** Dates for display, with a fixed locale and time zone so the server render and the browser agree. */
export function formatDateTime(iso: string | null | undefined, timeZone = "UTC") {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone }).format(new Date(iso));
}
