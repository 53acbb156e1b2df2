/**
 * The one error catalogue. Every exception the service raises carries a stable code from here, its HTTP
 * status and whether retrying the same request can help. Expected business outcomes (declined, door busy)
 * are returned as values, not thrown. docs/errors.md lists the same codes; a test keeps the two in step.
 */
export const ERRORS = {
  BAD_REQUEST: { status: 400, retryable: false, message: 'The request does not match the documented shape.' },
  UNAUTHENTICATED: { status: 401, retryable: false, message: 'Authentication is missing or invalid.' },
  FORBIDDEN: { status: 403, retryable: false, message: 'Your role does not allow this action here.' },
  NOT_FOUND: { status: 404, retryable: false, message: 'No such resource.' },
  CONFLICT: { status: 409, retryable: false, message: 'The resource changed meanwhile; read it again.' },
  DUPLICATE: { status: 409, retryable: false, message: 'A record with this key already exists.' },
  RATE_LIMITED: { status: 429, retryable: true, message: 'Too many requests; slow down.' },
  PHONE_REQUIRED: { status: 403, retryable: false, message: 'Authorise your phone number first.' },
  DEBT_OUTSTANDING: { status: 409, retryable: false, message: 'Unpaid debt blocks new visits; pay it first.' },
  CONTRACT_REQUIRED: { status: 409, retryable: false, message: 'This cabinet needs password-free payment; sign it first.' },
  CABINET_UNAVAILABLE: { status: 409, retryable: true, message: 'The cabinet cannot open right now.' },
  OUT_OF_STOCK: { status: 409, retryable: false, message: 'Not enough stock for this cart.' },
  PRODUCT_UNAVAILABLE: { status: 422, retryable: false, message: 'The product is not in the catalogue or is delisted.' },
  PRODUCT_NOT_ENROLLED: { status: 422, retryable: false, message: 'The product has no enrolment in the recogniser; enrol its photos first.' },
  PHOTO_UNREADABLE: { status: 422, retryable: false, message: 'A photo could not be read as an image of usable size.' },
  TOO_LARGE: { status: 413, retryable: false, message: 'The payload is over the configured limit.' },
  URI_TOO_LONG: { status: 414, retryable: false, message: 'The URL or one of its path parameters is too long.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, message: 'The body is of a content type this route does not take.' },
  HEADERS_TOO_LARGE: { status: 431, retryable: false, message: 'The request headers are over the size limit.' },
  REQUEST_TIMEOUT: { status: 408, retryable: true, message: 'The request did not arrive in full in time.' },
  UNAVAILABLE: { status: 503, retryable: true, message: 'A dependency is not available right now.' },
  TIMEOUT: { status: 504, retryable: true, message: 'A dependency did not answer in time.' },
  CONFIG_INVALID: { status: 500, retryable: false, message: 'The configuration is invalid.' },
  INTERNAL: { status: 500, retryable: true, message: 'Unexpected internal error.' },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = 'AppError';
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
