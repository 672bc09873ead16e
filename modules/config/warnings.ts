/** What synth warns about without refusing: settings that are allowed but risky. */
import { isPublicInternet, parseCidr } from "./cidr";
import type { MirrorConfig } from "./types";

/** What synth should warn about (printed by `cdktf synth` as a construct warning, and by anyone calling this). */
export function configWarnings(config: MirrorConfig): string[] {
  const audit =
    config.warehouse.mode !== "existing" && !config.warehouse.auditLogging
      ? [
          "warehouse.auditLogging is false: the warehouse holds members' personal data, and without the connection, " +
            "user and user-activity logs nobody can tell who read or changed it. Remove the setting to log (the default).",
        ]
      : [];
  return [...audit, ...publicInternetWarnings(config), ...noSubscriberWarnings(config)];
}

/** The first line of the warning for a config whose alarms notify nobody; help's entry is titled by it. */
export const NO_ALERT_SUBSCRIBER_WARNING = "no alert subscriber: the alarms notify nobody";

function noSubscriberWarnings(config: MirrorConfig): string[] {
  if (config.alertEmails.length > 0 || config.alerts.httpsEndpoints.length > 0) return [];
  return [
    `${NO_ALERT_SUBSCRIBER_WARNING}. alertEmails and alerts.httpsEndpoints are both empty, so a failed load, a ` +
      "dead-lettered download or a stale table raises an alarm that reaches no one. Add alertEmails in config.ts and " +
      "deploy again, or subscribe after the deploy: aws sns subscribe --topic-arn <alerts_topic_arn from npx cdktf output> " +
      "--protocol email --notification-endpoint <address> (see help, entry: WARNING: no alert subscriber).",
  ];
}

function publicInternetWarnings(config: MirrorConfig): string[] {
  if (config.warehouse.mode === "existing" || !config.network.allowPublicInternet) return [];
  const open = config.network.allowedCidrs.map((a) => a.cidr).filter((c) => {
    const parsed = parseCidr(c);
    return parsed !== undefined && isPublicInternet(parsed);
  });
  return open.length === 0
    ? []
    : [
        `network.allowedCidrs opens the Redshift port to the whole internet (${open.join(", ")}), as ` +
          "network.allowPublicInternet allows: anyone can try passwords on it. List your offices' addresses instead.",
      ];
}
