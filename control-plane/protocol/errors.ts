/**
 * Every failure that crosses a process boundary carries one of these codes, so a
 * client can react to the kind of failure without parsing messages.
 */
export const ErrorCodes = [
  'BAD_REQUEST', // malformed JSON or a message that fails its schema
  'MESSAGE_TOO_LARGE',
  'UNKNOWN_METHOD',
  'INVALID_STATE', // well-formed, but not allowed now (e.g. produce before join)
  'UNAUTHORIZED', // missing, bad or expired token
  'FORBIDDEN', // token is valid but lacks the grant
  'NOT_FOUND',
  'CONFLICT',
  'UNAVAILABLE', // node is draining or out of capacity
  'RATE_LIMITED', // too many requests from this socket, address or identity; retry later
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/** A refusal as it travels: a signaling error frame's `error`, an HTTP API's error body. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/**
 * Failures a client (the SDK) names itself because no answer came: never sent by a server.
 * The SDK's RequestError carries one of these or an ErrorCode.
 */
export const ClientErrorCodes = [
  'TIMEOUT', // a request got no answer in time
] as const;

export type ClientErrorCode = (typeof ClientErrorCodes)[number];

/** What a failed SDK request is: refused by the edge (ErrorCode) or given up by the client. */
export type SdkErrorCode = ErrorCode | ClientErrorCode;

/** The HTTP status each code is answered with on the HTTP APIs (public join, operator). */
const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  MESSAGE_TOO_LARGE: 413,
  UNKNOWN_METHOD: 404,
  INVALID_STATE: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export class KaskadeError extends Error {
  readonly code: ErrorCode;
  override readonly name: string = 'KaskadeError';
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
