/**
 * The downloader's failures, split by what the queue should do with the job.
 *
 * - PermanentDownloadError: retrying cannot help (expired presigned URL, missing file, a redirect, a malformed job).
 *   The job goes to the dead-letter queue at once, so an operator sees it within minutes instead of after every retry.
 * - TransientDownloadError: the next attempt may succeed (5xx, 429, connection reset, a body cut short, a timeout,
 *   S3 trouble on our side). The record is reported as a batch item failure and SQS redelivers it.
 *
 * Messages never carry a URL's query string: ControlShift's URLs are presigned, the query is a credential.
 */

export interface DownloadErrorOptions {
  /** The HTTP status that decided the outcome, when there was one. */
  readonly status?: number;
  readonly cause?: unknown;
}

export abstract class DownloadError extends Error {
  readonly status?: number;

  protected constructor(message: string, options: DownloadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.status !== undefined) this.status = options.status;
  }
}

/** Retrying cannot help: send the job to the dead-letter queue now. */
export class PermanentDownloadError extends DownloadError {
  constructor(message: string, options: DownloadErrorOptions = {}) {
    super(message, options);
    this.name = "PermanentDownloadError";
  }
}

/** The next delivery may succeed: let the queue retry the job. */
export class TransientDownloadError extends DownloadError {
  constructor(message: string, options: DownloadErrorOptions = {}) {
    super(message, options);
    this.name = "TransientDownloadError";
  }
}
