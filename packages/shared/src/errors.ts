/**
 * The stable error codes of the Agentik OS API. Every error response is
 * `{"error":{"code","message"}}` with one of these codes; clients branch on the code, never on
 * the message. `docs/errors.md` documents each one and a test keeps the two in step.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: { status: 401, meaning: 'No API key, or a key that is unknown or revoked.' },
  FORBIDDEN: { status: 403, meaning: 'The key is valid but its role may not do this.' },
  TENANT_REQUIRED: { status: 400, meaning: 'An operator key called a tenant route without X-Tenant-ID.' },
  TENANT_NOT_FOUND: {
    status: 404,
    meaning: 'The tenant does not exist, is suspended or deleted, or the key may not use it.',
  },
  NOT_FOUND: { status: 404, meaning: 'No such route, or no such resource in this tenant.' },
  CONFLICT: { status: 409, meaning: 'The resource already exists (for example a taken slug), or its state does not allow the request.' },
  PLAN_LIMIT_REACHED: { status: 403, meaning: "The tenant's plan does not allow more of this resource." },
  VALIDATION_FAILED: { status: 400, meaning: 'The body, query or parameters do not match the schema.' },
  MALFORMED_REQUEST: { status: 400, meaning: 'The body is not valid JSON or not valid UTF-8.' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The body is larger than AGENTIK_BODY_LIMIT_BYTES.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The body is not application/json.' },
  BUDGET_EXCEEDED: { status: 402, meaning: 'The tenant is over its hard monthly budget.' },
  RATE_LIMITED: {
    status: 429,
    meaning: "The tenant is over its plan's requests per minute or concurrent model calls, or its share of a provider's connections; see Retry-After.",
  },
  PROVIDER_UNAVAILABLE: { status: 502, meaning: 'The LLM provider could not be reached or kept failing.' },
  PROVIDER_ERROR: { status: 502, meaning: 'The LLM provider rejected the request.' },
  SERVICE_UNAVAILABLE: { status: 503, meaning: 'The server is starting or shutting down.' },
  INTERNAL: { status: 500, meaning: 'An unexpected error; the server logged it with the request id.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    /** One of {@link ERROR_CODES}. */
    code: ErrorCode;
    /** A human-readable explanation; never a stack trace, SQL or a file path. */
    message: string;
  };
}
