/** Names derived from the config that validation must check the length or uniqueness of. */

/** The longest function name a loader gets: `<prefix>-load-incremental-<table>`; Lambda allows 64 characters. */
export function loaderFunctionName(prefix: string, kind: "full" | "incremental", table: string): string {
  return `${prefix}-load-${kind}-${table}`;
}

/**
 * The part of an e-mail address or URL host a construct id is made of: lower case, every other character "-".
 * Two entries with the same id would be one subscription, so validation refuses them.
 */
export function subscriptionSlug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
