/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): where the receiver quarantines a correctly
 * signed webhook it cannot act on, in the exports bucket. The receiver writes under the pending prefix (its only
 * write scope), `npm run replay -- quarantine` moves re-submitted records to the resubmitted prefix, and the bucket's
 * lifecycle rule expires the whole prefix. No loader's EventBridge rule matches it (they match `exports/...`).
 */

/** The first path segment of everything quarantined (lifecycle rule). */
export const QUARANTINE_KEY_PREFIX = "quarantine/";
/** Payloads waiting for the operator: the receiver's only write scope. */
export const QUARANTINE_PENDING_PREFIX = `${QUARANTINE_KEY_PREFIX}pending/`;
/** Payloads `npm run replay -- quarantine --execute` queued, kept for the record. */
export const QUARANTINE_RESUBMITTED_PREFIX = `${QUARANTINE_KEY_PREFIX}resubmitted/`;
