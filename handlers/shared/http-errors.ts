/**
 * Errors that carry the HTTP status a request handler answers with.
 *
 * Names are spelled out rather than taken from the constructor: bundling with minification renames classes.
 *
 * The message is written for the caller (it becomes the `{"error": "..."}` of the response), so it must never contain a
 * secret, a signature or a presigned URL's query. The underlying failure, if any, goes in `cause` and is only logged.
 */

export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
}

/** 401: the request is not authenticated (missing, malformed or wrong signature, or no secret to check it with). */
export class UnauthorizedError extends HttpError {
  override readonly name: string = "UnauthorizedError";
  readonly statusCode = 401;
}

/** 413: the body is larger than the receiver's size guard (before the signature is checked). */
export class PayloadTooLargeError extends HttpError {
  override readonly name: string = "PayloadTooLargeError";
  readonly statusCode = 413;
}

/** 503: a dependency failed on our side; the sender should retry later. */
export class ServiceUnavailableError extends HttpError {
  override readonly name: string = "ServiceUnavailableError";
  readonly statusCode = 503;
}
