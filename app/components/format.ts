import { useRouteLoaderData } from "@remix-run/react";

/**
 * Numbers and dates as a merchant reads them, in one place: money in the
 * shop's currency with two decimals, counts and percentages alike on every
 * page, and dates in the shop's time zone. The locale is fixed so that the
 * server render and the browser agree (no hydration mismatch).
 */

const LOCALE = "en-US";

export interface ShopFormat {
  currencyCode: string;
  timeZone: string;
}

/** Until the shop's details have synced: what Shopify itself defaults to. */
export const DEFAULT_SHOP_FORMAT: ShopFormat = { currencyCode: "USD", timeZone: "UTC" };

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let format = cache.get(key) as T | undefined;
  if (!format) cache.set(key, (format = make()));
  return format;
}

const toNumber = (value: number | string | bigint) => (typeof value === "number" ? value : Number(value));

export function formatMoney(amount: number | string | null | undefined, currencyCode: string) {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = toNumber(amount);
  if (!Number.isFinite(value)) return "—";
  return cached(
    `money:${currencyCode}`,
    () =>
      new Intl.NumberFormat(LOCALE, {
        style: "currency",
        currency: currencyCode,
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      }),
  ).format(value);
}

/** Large sums on a chart axis or a tile: "$1.2M". */
export function formatCompactMoney(amount: number, currencyCode: string) {
  return cached(
    `compact-money:${currencyCode}`,
    () => new Intl.NumberFormat(LOCALE, { style: "currency", currency: currencyCode, notation: "compact" }),
  ).format(amount);
}

export function formatCount(count: number | bigint | null | undefined) {
  if (count === null || count === undefined) return "—";
  return cached("count", () => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 })).format(count);
}

/**
 * A count Shopify gives only as a floor (a capped count answered `precision: AT_LEAST`): "10,000+".
 * Exact counts go through formatCount.
 */
export function formatCountAtLeast(count: number | bigint | null | undefined) {
  if (count === null || count === undefined) return "—";
  return `${formatCount(count)}+`;
}

/** A decimal figure that is not money (days, orders per customer): at most `digits` decimals. */
export function formatNumber(value: number | null | undefined, digits = 1) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return cached(`number:${digits}`, () => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: digits })).format(
    value,
  );
}

/** A share (0.123) as "12.3%". */
export function formatPercent(share: number | null | undefined, digits = 1) {
  if (share === null || share === undefined || !Number.isFinite(share)) return "—";
  return cached(
    `percent:${digits}`,
    () => new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }),
  ).format(share);
}

/** A change between periods (0.052) as "+5.2%", with its sign. */
export function formatChange(change: number | null | undefined) {
  if (change === null || change === undefined || !Number.isFinite(change)) return "—";
  return cached(
    "change",
    () =>
      new Intl.NumberFormat(LOCALE, {
        style: "percent",
        signDisplay: "exceptZero",
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }),
  ).format(change);
}

type DateInput = string | Date | null | undefined;

function toDate(value: DateInput) {
  if (!value) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDateTime(value: DateInput, timeZone: string) {
  const date = toDate(value);
  if (!date) return "—";
  return cached(
    `datetime:${timeZone}`,
    () => new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone }),
  ).format(date);
}

export function formatDate(value: DateInput, timeZone: string) {
  const date = toDate(value);
  if (!date) return "—";
  return cached(`date:${timeZone}`, () => new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone })).format(
    date,
  );
}

/**
 * A calendar day stored as YYYY-MM-DD (already in the shop's calendar): formatted as it is, never shifted
 * by a time zone.
 */
export function formatCalendarDay(value: string | null | undefined) {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return "—";
  return formatDate(`${value}T12:00:00Z`, "UTC");
}

/** The zone named once per page: "Times in America/New_York (EST)". */
export function timeZoneNote(timeZone: string, at: Date = new Date()) {
  const short = cached(
    `zone:${timeZone}`,
    () => new Intl.DateTimeFormat(LOCALE, { timeZone, timeZoneName: "short" }),
  )
    .formatToParts(at)
    .find((part) => part.type === "timeZoneName")?.value;
  return `Times in ${timeZone}${short && short !== timeZone ? ` (${short})` : ""}`;
}

/** Formatters bound to one shop's currency and time zone. */
export function shopFormatters(shop: ShopFormat) {
  return {
    ...shop,
    money: (amount: number | string | null | undefined) => formatMoney(amount, shop.currencyCode),
    compactMoney: (amount: number) => formatCompactMoney(amount, shop.currencyCode),
    count: formatCount,
    countAtLeast: formatCountAtLeast,
    number: formatNumber,
    percent: formatPercent,
    change: formatChange,
    dateTime: (value: DateInput) => formatDateTime(value, shop.timeZone),
    date: (value: DateInput) => formatDate(value, shop.timeZone),
    day: formatCalendarDay,
    timeZoneNote: () => timeZoneNote(shop.timeZone),
  };
}

export type ShopFormatters = ReturnType<typeof shopFormatters>;

/** The current shop's formatters, from the app layout's loader (routes/app.tsx). */
export function useShopFormat(): ShopFormatters {
  const layout = useRouteLoaderData<{ shopFormat?: ShopFormat }>("routes/app");
  return shopFormatters(layout?.shopFormat ?? DEFAULT_SHOP_FORMAT);
}
