import { defaultConfig, isHttpsEndpoint, resolveConfig, subscriptionSlug } from "../modules/config";
import { problemsOf } from "./helpers/config";


describe("alerts config", () => {
  it("defaults to no https endpoint, 26 hours of freshness, 15 min / 1 h / 6 h of queue age, and alarms at the first error", () => {
    expect(resolveConfig({}).alerts).toEqual({
      httpsEndpoints: [],
      freshnessHours: 26,
      downloadsQueueAgeMinutes: 15,
      incrementalQueueAgeMinutes: 60,
      fullQueueAgeMinutes: 360,
      functionErrors: 1,
      webhookUnauthorized: 5,
      webhookRejected: 1,
      webhookServerErrors: 1,
    });
    expect(resolveConfig({}).alertEmails).toEqual([]);
  });

  it("fills the section field by field", () => {
    const config = resolveConfig({ alerts: { freshnessHours: 30, httpsEndpoints: ["https://events.pagerduty.com/x/enqueue"] } });
    expect(config.alerts).toEqual({
      ...defaultConfig().alerts,
      freshnessHours: 30,
      httpsEndpoints: ["https://events.pagerduty.com/x/enqueue"],
    });
  });

  it("accepts the ends of every range", () => {
    for (const alerts of [
      { freshnessHours: 25, downloadsQueueAgeMinutes: 1, incrementalQueueAgeMinutes: 1, fullQueueAgeMinutes: 1, functionErrors: 1 },
      { freshnessHours: 168, downloadsQueueAgeMinutes: 300, incrementalQueueAgeMinutes: 2880, fullQueueAgeMinutes: 2880, functionErrors: 1000 },
    ]) {
      expect(problemsOf({ alerts })).toEqual([]);
    }
  });

  it("reports every bad alerts field at once, after the other sections, each with the value and what is allowed", () => {
    const problems = problemsOf({
      logRetentionDays: 42,
      alertEmails: ["ops@example.org", "OPS@example.org", "nobody"],
      alerts: {
        httpsEndpoints: ["http://hooks.example.org/sns", "https://", "not a url", "https://ok.example.org/a", "https://ok.example.org/a"],
        freshnessHours: 24,
        downloadsQueueAgeMinutes: 360,
        incrementalQueueAgeMinutes: 0,
        fullQueueAgeMinutes: 1.5,
        functionErrors: 0,
        webhookUnauthorized: -1,
        webhookRejected: 0,
        webhookServerErrors: "1" as never,
      },
    });
    expect(problems).toEqual([
      'alertEmails[1] is "OPS@example.org": is listed twice (also alertEmails[0], ignoring case and punctuation)',
      'alertEmails[2] is "nobody": must be an e-mail address',
      "logRetentionDays is 42: must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
      'alerts.httpsEndpoints[0] is "http://hooks.example.org/sns": must be an https URL of at most 2048 characters, such as "https://events.pagerduty.com/integration/<key>/enqueue"',
      'alerts.httpsEndpoints[1] is "https://": must be an https URL of at most 2048 characters, such as "https://events.pagerduty.com/integration/<key>/enqueue"',
      'alerts.httpsEndpoints[2] is "not a url": must be an https URL of at most 2048 characters, such as "https://events.pagerduty.com/integration/<key>/enqueue"',
      'alerts.httpsEndpoints[4] is "https://ok.example.org/a": is listed twice (also alerts.httpsEndpoints[3])',
      "alerts.freshnessHours is 24: must be a whole number from 25 to 168: full exports come nightly (a shorter window alarms between two of them), and CloudWatch looks back at most 7 days",
      "alerts.downloadsQueueAgeMinutes is 360: must be a whole number from 1 to 300: ControlShift's download URLs expire 6 hours after the webhook, so a later alarm comes too late to save the export",
      "alerts.incrementalQueueAgeMinutes is 0: must be a whole number from 1 to 2880: loader queues drop a file after 4 days, so the alarm must leave time to act",
      "alerts.fullQueueAgeMinutes is 1.5: must be a whole number from 1 to 2880: loader queues drop a file after 4 days, so the alarm must leave time to act",
      "alerts.functionErrors is 0: must be a whole number from 1 to 1000",
      "alerts.webhookUnauthorized is -1: must be a whole number from 1 to 10000",
      "alerts.webhookRejected is 0: must be a whole number from 1 to 10000",
      'alerts.webhookServerErrors is "1": must be a whole number from 1 to 10000',
    ]);
  });

  it("refuses lists that are not lists", () => {
    expect(problemsOf({ alertEmails: "ops@example.org" as never, alerts: { httpsEndpoints: "https://x.example.org" as never } })).toEqual([
      'alertEmails is "ops@example.org": must be a list of e-mail addresses, such as ["data-team@example.org"] (empty for none)',
      'alerts.httpsEndpoints is "https://x.example.org": must be a list of https URLs (empty for none)',
    ]);
  });

  it("refuses two e-mail addresses that would be one subscription", () => {
    expect(problemsOf({ alertEmails: ["on.call@example.org", "on-call@example.org"] })).toEqual([
      'alertEmails[1] is "on-call@example.org": is listed twice (also alertEmails[0], ignoring case and punctuation)',
    ]);
  });

  it("turns an address or a host into a construct id of a-z, 0-9 and -", () => {
    expect(subscriptionSlug("Data.Team+alerts@Example.org")).toBe("data-team-alerts-example-org");
    expect(subscriptionSlug("events.pagerduty.com")).toBe("events-pagerduty-com");
  });

  it("knows an https endpoint SNS can deliver to", () => {
    expect(isHttpsEndpoint("https://events.pagerduty.com/integration/abc/enqueue")).toBe(true);
    expect(isHttpsEndpoint("https://user:pass@hooks.example.org:8443/sns?x=1")).toBe(true);
    expect(isHttpsEndpoint("http://hooks.example.org")).toBe(false);
    expect(isHttpsEndpoint("https://hooks.example.org/a b")).toBe(false);
    expect(isHttpsEndpoint(`https://hooks.example.org/${"a".repeat(2048)}`)).toBe(false);
    expect(isHttpsEndpoint(42)).toBe(false);
  });
});
