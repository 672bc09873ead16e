/** alertEmails and alerts: who is notified, and when the alarms fire. */
import type { Checker } from "./checker";
import { subscriptionSlug } from "./naming";
import type { AlertsConfig } from "./types";

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An https URL SNS can deliver to: parsed, with a host, at most 2048 characters. */
export function isHttpsEndpoint(value: unknown): value is string {
  if (typeof value !== "string" || value.length > 2048 || /\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname !== "";
  } catch {
    return false;
  }
}

export function checkAlertEmails(c: Checker, emails: unknown): void {
  if (!Array.isArray(emails)) {
    c.add("alertEmails", emails, 'must be a list of e-mail addresses, such as ["data-team@example.org"] (empty for none)');
    return;
  }
  const seen = new Map<string, number>();
  emails.forEach((e, i) => {
    if (typeof e !== "string" || !EMAIL_PATTERN.test(e)) {
      c.add(`alertEmails[${i}]`, e, "must be an e-mail address");
      return;
    }
    const slug = subscriptionSlug(e);
    if (seen.has(slug)) c.add(`alertEmails[${i}]`, e, `is listed twice (also alertEmails[${seen.get(slug)}], ignoring case and punctuation)`);
    else seen.set(slug, i);
  });
}

/** ControlShift's download URLs expire 6 hours after the webhook: a downloads alarm must leave time to act. */
const MAX_DOWNLOADS_QUEUE_AGE_MINUTES = 300;
/** Loader queues keep a message 4 days (modules/table-loader.ts): an age alarm must leave time to act. */
const MAX_LOADER_QUEUE_AGE_MINUTES = 2 * 24 * 60;

export function checkAlerts(c: Checker, a: AlertsConfig): void {
  if (typeof a !== "object" || a === null) {
    c.add("alerts", a, "must be an object such as { freshnessHours: 26 } (every field optional)");
    return;
  }
  if (!Array.isArray(a.httpsEndpoints)) {
    c.add("alerts.httpsEndpoints", a.httpsEndpoints, 'must be a list of https URLs (empty for none)');
  } else {
    const seen = new Map<string, number>();
    a.httpsEndpoints.forEach((url, i) => {
      if (!isHttpsEndpoint(url)) {
        c.add(
          `alerts.httpsEndpoints[${i}]`,
          url,
          'must be an https URL of at most 2048 characters, such as "https://events.pagerduty.com/integration/<key>/enqueue"',
        );
      } else if (seen.has(url)) {
        c.add(`alerts.httpsEndpoints[${i}]`, url, `is listed twice (also alerts.httpsEndpoints[${seen.get(url)}])`);
      } else {
        seen.set(url, i);
      }
    });
  }
  // Periods of an hour allow CloudWatch an evaluation range of 7 days; full exports come nightly, so a range
  // under a day and a bit alarms between two of them.
  if (typeof a.freshnessHours !== "number" || !Number.isInteger(a.freshnessHours) || a.freshnessHours < 25 || a.freshnessHours > 168) {
    c.add(
      "alerts.freshnessHours",
      a.freshnessHours,
      "must be a whole number from 25 to 168: full exports come nightly (a shorter window alarms between two of them), and CloudWatch looks back at most 7 days",
    );
  }
  if (
    typeof a.downloadsQueueAgeMinutes !== "number" ||
    !Number.isInteger(a.downloadsQueueAgeMinutes) ||
    a.downloadsQueueAgeMinutes < 1 ||
    a.downloadsQueueAgeMinutes > MAX_DOWNLOADS_QUEUE_AGE_MINUTES
  ) {
    c.add(
      "alerts.downloadsQueueAgeMinutes",
      a.downloadsQueueAgeMinutes,
      `must be a whole number from 1 to ${MAX_DOWNLOADS_QUEUE_AGE_MINUTES}: ControlShift's download URLs expire 6 hours after the webhook, so a later alarm comes too late to save the export`,
    );
  }
  for (const field of ["incrementalQueueAgeMinutes", "fullQueueAgeMinutes"] as const) {
    const v = a[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_LOADER_QUEUE_AGE_MINUTES) {
      c.add(
        `alerts.${field}`,
        v,
        `must be a whole number from 1 to ${MAX_LOADER_QUEUE_AGE_MINUTES}: loader queues drop a file after 4 days, so the alarm must leave time to act`,
      );
    }
  }
  c.integer("alerts.functionErrors", a.functionErrors, 1, 1000);
  c.integer("alerts.webhookUnauthorized", a.webhookUnauthorized, 1, 10000);
  c.integer("alerts.webhookRejected", a.webhookRejected, 1, 10000);
  c.integer("alerts.webhookServerErrors", a.webhookServerErrors, 1, 10000);
}
