import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@agentik/shared';
import { AppError } from '../lib/app-error.js';

/** Framework error codes and what clients see for them. */
const FRAMEWORK: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_BAD_URL: 'MALFORMED_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'MALFORMED_REQUEST',
};

/**
 * The JSON 404 for a path no route serves (the query string left out of the message); `count`
 * is told each error code sent (the error metric).
 */
export function createNotFoundHandler(count: (code: ErrorCode) => void) {
  return function sendRouteNotFound(request: FastifyRequest, reply: FastifyReply) {
    count('NOT_FOUND');
    const urlPath = (request.url.split('?')[0] ?? '').slice(0, 200);
    return reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${urlPath}`));
  };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

function describeValidation(error: FastifyError): string {
  const context = (error as { validationContext?: string }).validationContext ?? 'request';
  const issues = (error.validation ?? []).slice(0, 5).map((v) => {
    const where = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    return `${context}${where ? `.${where}` : ''}: ${v.message ?? 'invalid'}`;
  });
  return issues.length > 0 ? issues.join('; ') : 'request does not match the schema';
}

/** Maps any error to a stable code and status; unknown errors are logged and shown as INTERNAL. */
export function toClientError(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof AppError) {
    return { status: error.status, body: errorBody(error.code, error.message), headers: error.headers };
  }
  const fe = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe) || fe.validation) {
    return { status: 400, body: errorBody('VALIDATION_FAILED', describeValidation(fe)), headers: {} };
  }
  const mapped = fe.code ? FRAMEWORK[fe.code] : undefined;
  if (mapped) {
    return { status: ERROR_CODES[mapped].status, body: errorBody(mapped, fe.message), headers: {} };
  }
  if (!isResponseSerializationError(fe) && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: errorBody('MALFORMED_REQUEST', 'the request could not be read'), headers: {} };
  }
  return { status: 500, body: errorBody('INTERNAL', 'internal error; the server logged the details'), headers: {} };
}

/** The app's error handler: renders any error with its stable code and tells `count` the code. */
export function createErrorHandler(count: (code: ErrorCode) => void) {
  return function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const { status, body, headers } = toClientError(error);
    count(body.error.code);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code }, 'request rejected');
    return reply.code(status).headers(headers).send(body);
  };
}
