/**
 * The small pieces of HTTP the fake provider needs on top of `node:http`: a capped body reader,
 * response writers, form encoding, and the session cookie.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { percentEncode, type Param } from './signature.js';
import { twitterErrorBody, type TwitterError } from './twitter-errors.js';

/** The request body is larger than the reader's limit. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/**
 * Reads the whole body, refusing more than `limit` bytes so a client cannot make the fake
 * buffer without end. A declared Content-Length over the limit fails before anything is read.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) {
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Whether the request body is `application/x-www-form-urlencoded` (parameters may be read from it). */
export function isFormBody(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    // Tokens, verifiers and pages are single-use; nothing here may be replayed from a cache.
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

export function sendJSON(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

export function sendTwitterError(res: ServerResponse, error: TwitterError, headers: OutgoingHttpHeaders = {}): void {
  send(res, error.status, 'application/json; charset=utf-8', twitterErrorBody(error), headers);
}

export function sendPage(res: ServerResponse, status: number, html: string): void {
  send(res, status, 'text/html; charset=utf-8', html, {
    // The pages hold a live request token: no scripts, no framing (clickjacking of "Allow").
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
}

export function redirect(res: ServerResponse, location: string): void {
  send(res, 302, 'text/plain; charset=utf-8', `Redirecting to ${location}`, { location });
}

/** `name=value&…`, encoded as OAuth encodes (RFC 5849 §3.6), for token responses and callbacks. */
export function formEncode(params: readonly Param[]): string {
  return params.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&');
}

/**
 * Adds parameters to a URL's query, keeping the query it already has byte for byte and any
 * fragment after it (RFC 5849 §2.2: the callback keeps its own query).
 */
export function appendQuery(url: string, params: readonly Param[]): string {
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${formEncode(params)}${fragment}`;
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
