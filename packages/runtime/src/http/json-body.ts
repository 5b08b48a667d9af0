import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { AppError } from '../lib/app-error.js';

/**
 * Replaces Fastify's JSON parser: bodies must be valid UTF-8 (the default decoder would quietly
 * turn bad bytes into U+FFFD and store them) and valid JSON, with prototype keys refused. It is
 * the only body parser: every other content type is UNSUPPORTED_MEDIA_TYPE.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  // Fastify also parses text/plain by default; the API takes JSON only, so anything else is a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    if (!isUtf8(body)) return done(new AppError('MALFORMED_REQUEST', 'body is not valid UTF-8'), undefined);
    try {
      done(null, sjson.parse(body.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(new AppError('MALFORMED_REQUEST', 'body is not valid JSON'), undefined);
    }
  });
}
