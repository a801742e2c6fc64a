/**
 * How the client's signed requests reach Twitter: the contract both transports keep.
 *
 * A transport sends one request and answers with the status and the body, whatever the status;
 * the client decides what a status means. Everything else ends in a {@link TransportError} whose
 * `kind` the client turns into a typed, labelled `TwitterSignInError`.
 */
import { redactOAuthParams } from '../redact.js';

/** Where a request goes, parsed once per endpoint URL. */
export interface Target {
  ssl: boolean;
  /** Host name or IP address, without IPv6 brackets. */
  hostname: string;
  port: number;
  /** Path and query, as sent on the request line. */
  path: string;
  /** The Host header: host name, and the port when it is not the default. */
  host: string;
  /** The URL as sent, serialised. */
  href: string;
  /** The base string URI (RFC 5849 §3.4.1.2): scheme, host (port only when not the default) and path. */
  base: string;
}

/** One request, signed and encoded, ready to send. */
export interface PreparedRequest {
  method: 'GET' | 'POST';
  target: Target;
  /** Header fields besides Host, Content-Length and Connection framing; values are ASCII. */
  headers: Readonly<Record<string, string>>;
  /** The form body; empty for a GET. ASCII (it is percent-encoded). */
  body: string;
}

export interface TransportResponse {
  status: number;
  body: string;
}

export type TransportErrorKind =
  /** No complete answer within the time allowed. */
  | 'timeout'
  /** Connecting failed, or the connection broke or closed before the answer was complete. */
  | 'network'
  /** The answer is not well-formed HTTP/1.1. */
  | 'malformed'
  /** The answer's body is larger than {@link MAX_RESPONSE_BYTES}. */
  | 'too-large'
  /**
   * A kept-alive connection the other end had already closed: the request almost certainly
   * never reached it, and may be sent again on a new connection.
   */
  | 'stale';

export class TransportError extends Error {
  readonly kind: TransportErrorKind;
  /** The answer's status, when its head had arrived. */
  readonly status: number | undefined;

  /** `cause`, when given, must already be free of request data (see {@link sanitizeCause}). */
  constructor(kind: TransportErrorKind, message: string, options: { cause?: Error; status?: number } = {}) {
    super(message, options.cause ? { cause: options.cause } : undefined);
    this.name = 'TransportError';
    this.kind = kind;
    this.status = options.status;
  }
}

export interface Transport {
  /**
   * Sends `request`, settling once, within `timeout` milliseconds from now (at most 2^31 - 1).
   * `fresh`: on a new connection, not an idle one (for the resend after a `stale` error, which
   * another idle connection, dead the same way, would fail again).
   */
  send(request: PreparedRequest, timeout: number, options?: { fresh?: boolean }): Promise<TransportResponse>;
  /** Closes the connections this transport keeps open. */
  destroy(): void;
}

// Twitter's answers to these calls are a few hundred bytes; anything far larger is not Twitter.
export const MAX_RESPONSE_BYTES = 1024 * 1024;

// Idle keep-alive connections are closed after this long, below the 5 s idle timeout common on
// servers and proxies, so a request rarely lands on a connection the other end is closing.
export const IDLE_SOCKET_TIMEOUT = 4_000;

// The content codings that compress (RFC 9110 §8.4.1, and the registered br and zstd).
const COMPRESSION = /(?:^|,)[ \t]*(?:x-)?(?:gzip|deflate|compress|br|zstd)[ \t]*(?:,|$)/i;

/**
 * Whether a Content-Encoding header value says the body is compressed. Requests ask for
 * `identity`, and neither transport decompresses: such a body would be handed on as if it were
 * the text. Values that name no compression (`identity`, or a misconfigured `utf-8`) pass.
 */
export function isCompressed(value: string | undefined): boolean {
  return value !== undefined && COMPRESSION.test(value);
}

/**
 * The cause of a connection that closed before the answer was complete: what node's http
 * reports for it ("socket hang up", ECONNRESET), so `err.cause.code` says the same either way.
 */
export function hangUp(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

/**
 * Errors from `net`, `tls` and `http` can carry the request (headers with the Authorization
 * signature) or the socket; a mocking library's message can list the request's headers (nock
 * 13's "No match for request"). Keep the message, with OAuth values blanked, and the code only.
 */
export function sanitizeCause(cause: unknown): Error & { code?: string } {
  const clean: Error & { code?: string } = new Error(
    redactOAuthParams(cause instanceof Error ? cause.message : String(cause)),
  );
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  if (typeof code === 'string' && code) clean.code = code;
  return clean;
}
