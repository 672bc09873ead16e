/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): the message attributes the downloader puts
 * on a job it sends to the downloads dead-letter queue, which `npm run replay` shows. Part of the operator docs
 * (help): keep them stable.
 */
export const DEAD_LETTER_ATTRIBUTES = {
  /** Why the download failed for good, in words. */
  reason: "failure-reason",
  /** The HTTP status of the export URL's answer (or a short code when there was none). */
  status: "failure-status",
  /** The SQS message id of the job as the downloader received it. */
  sourceMessageId: "source-message-id",
} as const;
