/**
 * The default transport: HTTP/1.1 over kept-alive TCP or TLS connections, for the two small
 * calls a sign-in makes to Twitter.
 *
 * Node's `http` client is general: every request builds a ClientRequest, validates and stores
 * headers one by one, goes through an agent's queue and an IncomingMessage stream. Here a
 * request is one string written once, and the answer (a few hundred bytes) is read straight
 * from the socket: a signed call costs 0.40x the CPU of the same call through node's client
 * with a keep-alive agent (bench/TRANSPORT.md). What it does not understand is refused, never
 * guessed: a response it cannot frame exactly ends the call with a `malformed` error and the
 * connection is closed, never reused.
 *
 * What it reads (RFC 9112): a status line `HTTP/1.x NNN`, header fields, interim 1xx answers
 * (skipped), and a body framed by Content-Length, by chunked transfer coding, or (over plain
 * TCP only) by the end of the connection. A connection is reused only after a response that was framed by length or
 * chunks, on HTTP/1.1, without `Connection: close`, and with nothing after it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9112
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  hangUp,
  IDLE_SOCKET_TIMEOUT,
  isCompressed,
  MAX_RESPONSE_BYTES,
  sanitizeCause,
  TransportError,
  type PreparedRequest,
  type Target,
  type Transport,
  type TransportResponse,
} from './transport.js';

// Twitter's response heads are well under 2 KiB; node's own limit is 16 KiB.
const MAX_HEAD_BYTES = 16 * 1024;
// Idle connections kept per origin (node's agent keeps 256 by default).
const MAX_IDLE_PER_ORIGIN = 256;
// Origins whose TLS session is kept (a client talks to one or two).
const MAX_TLS_SESSIONS = 16;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
// chunk-size is 1*HEXDIG: leading zeros are allowed, values over 8 hex digits are not.
const CHUNK_SIZE_LINE = /^0*([0-9A-Fa-f]{1,8})[ \t]*(?:;[^\r\n]*)?$/;
// RFC 9110 §5.6.2 token characters for a field name.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Anything that would let a value end its line early (RFC 9110 §5.5: CR, LF and NUL are
// invalid in a field value; a bare LF would otherwise hide the next field inside this one).
const LINE_BREAK = /[\r\n\0]/;
// Optional whitespace is spaces and tabs only (RFC 9110 §5.6.3), not what String#trim removes.
const OWS_AROUND = /^[ \t]+|[ \t]+$/g;

export interface Http1TransportOptions {
  /** Milliseconds an unused connection is kept open. Default {@link IDLE_SOCKET_TIMEOUT}. */
  idleTimeout?: number;
  /** Certificate authorities to trust instead of node's (for tests against a private one). */
  tls?: Pick<tls.ConnectionOptions, 'ca'>;
}

export class Http1Transport implements Transport {
  readonly #idle = new Map<string, Connection[]>();
  readonly #open = new Set<Connection>();
  // The last TLS session per origin, to resume it on the next connection (as https.Agent does):
  // after an idle spell, a sign-in then skips most of a full handshake.
  readonly #tlsSessions = new Map<string, Buffer>();
  readonly #idleTimeout: number;
  readonly #tls: Http1TransportOptions['tls'];

  constructor(options: Http1TransportOptions = {}) {
    this.#idleTimeout = options.idleTimeout ?? IDLE_SOCKET_TIMEOUT;
    this.#tls = options.tls;
  }

  /**
   * Sends the request on an idle connection to its origin, or a new one. A reused connection
   * that turns out closed before any byte of the answer arrived ends in a `stale` error: the
   * caller may send again with `fresh`, on a new connection.
   */
  send(request: PreparedRequest, timeout: number, options?: { fresh?: boolean }): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      const head = requestHead(request);
      const key = originKey(request.target);
      const conn = (options?.fresh ? undefined : this.#take(key)) ?? this.#connect(key, request.target);
      conn.start(new Exchange(resolve, reject, request.target.ssl), timeout);
      conn.socket.write(head + request.body, 'latin1');
    });
  }

  destroy(): void {
    for (const conn of this.#open) conn.close();
    this.#idle.clear();
    this.#tlsSessions.clear();
  }

  /** Connections in use or idle, for tests and leak checks. */
  get openConnections(): number {
    return this.#open.size;
  }

  #take(key: string): Connection | undefined {
    const stack = this.#idle.get(key);
    // Most recently used first: the least likely to have been closed by the other end.
    const conn = stack?.pop();
    if (conn) conn.socket.ref();
    return conn;
  }

  #connect(key: string, target: Target): Connection {
    let socket: net.Socket;
    if (target.ssl) {
      const session = this.#tlsSessions.get(key);
      const secure = tls.connect({
        host: target.hostname,
        port: target.port,
        // SNI is for host names only (RFC 6066 §3).
        ...(net.isIP(target.hostname) ? {} : { servername: target.hostname }),
        ALPNProtocols: ['http/1.1'],
        ...(session ? { session } : {}),
        ...this.#tls,
      });
      secure.on('session', (ticket: Buffer) => {
        if (this.#tlsSessions.size >= MAX_TLS_SESSIONS) this.#tlsSessions.clear();
        this.#tlsSessions.set(key, ticket);
      });
      // A failed handshake may be the session's fault (a rotated ticket key): start afresh.
      // Errors after the handshake (a reset idle connection) say nothing about the session.
      const dropSession = () => this.#tlsSessions.delete(key);
      secure.once('error', dropSession);
      secure.once('secureConnect', () => secure.off('error', dropSession));
      socket = secure;
    } else {
      socket = net.connect({ host: target.hostname, port: target.port });
    }
    socket.setNoDelay(true);
    const conn = new Connection(socket, key, this);
    socket.setTimeout(this.#idleTimeout);
    this.#open.add(conn);
    return conn;
  }

  /** @internal A connection finished an exchange and can carry another. */
  release(conn: Connection): void {
    let stack = this.#idle.get(conn.key);
    if (!stack) this.#idle.set(conn.key, (stack = []));
    if (stack.length >= MAX_IDLE_PER_ORIGIN) {
      conn.close();
      return;
    }
    conn.socket.unref();
    stack.push(conn);
  }

  /** @internal A connection closed, or will never be reused. */
  forget(conn: Connection): void {
    this.#open.delete(conn);
    const stack = this.#idle.get(conn.key);
    const at = stack ? stack.indexOf(conn) : -1;
    if (at >= 0) stack!.splice(at, 1);
    if (stack && stack.length === 0) this.#idle.delete(conn.key);
  }
}

/** One socket, carrying one exchange at a time. Its listeners are installed once. */
class Connection {
  readonly socket: net.Socket;
  readonly key: string;
  /** True once an answer has been read on it: the other end may close it while it is idle. */
  reused = false;
  #exchange: Exchange | null = null;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #transport: Http1Transport;

  constructor(socket: net.Socket, key: string, transport: Http1Transport) {
    this.socket = socket;
    this.key = key;
    this.#transport = transport;
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => this.#onError(err));
    socket.on('close', () => this.#onClose());
    socket.on('timeout', () => {
      // The socket's inactivity timer closes it while idle; a slow answer is the exchange's
      // own timer's business.
      if (!this.#exchange) this.close();
    });
  }

  start(exchange: Exchange, timeout: number): void {
    this.#exchange = exchange;
    this.#timer = setTimeout(() => {
      this.#fail(new TransportError('timeout', 'no complete answer in time'));
    }, timeout);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.forget(this);
    this.socket.destroy();
    this.#fail(new TransportError('network', 'the connection was closed by this client'));
  }

  #onData(data: Buffer): void {
    const exchange = this.#exchange;
    if (!exchange) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.close();
      return;
    }
    let outcome: ExchangeOutcome | undefined;
    try {
      outcome = exchange.read(data);
    } catch (err) {
      this.#fail(err instanceof TransportError ? err : new TransportError('malformed', String(err)));
      return;
    }
    if (outcome) this.#complete(outcome);
  }

  #onEnd(): void {
    const exchange = this.#exchange;
    if (exchange) {
      const outcome = exchange.readEnd();
      if (outcome) {
        this.#complete(outcome);
        return;
      }
      this.#fail(
        exchange.received || !this.reused
          ? new TransportError('network', 'the connection closed before the answer was complete', { cause: hangUp() })
          : new TransportError('stale', 'the kept-alive connection had been closed'),
      );
    }
    this.close();
  }

  #onError(err: Error): void {
    const exchange = this.#exchange;
    const code = (err as NodeJS.ErrnoException).code;
    if (exchange && this.reused && !exchange.received && (code === 'ECONNRESET' || code === 'EPIPE')) {
      this.#fail(new TransportError('stale', 'the kept-alive connection had been closed'));
    } else {
      const clean = sanitizeCause(err);
      this.#fail(new TransportError('network', clean.code ?? clean.message, { cause: clean }));
    }
    this.close();
  }

  #onClose(): void {
    this.#fail(new TransportError('network', 'the connection closed before the answer was complete', { cause: hangUp() }));
    this.#closed = true;
    this.#transport.forget(this);
  }

  #complete(outcome: ExchangeOutcome): void {
    const exchange = this.#exchange!;
    this.#exchange = null;
    clearTimeout(this.#timer);
    this.reused = true;
    exchange.resolve(outcome.response);
    if (outcome.reusable && !this.#closed) this.#transport.release(this);
    else this.close();
  }

  /** Ends the current exchange, if any, with `err`; the connection is not reused after. */
  #fail(err: TransportError): void {
    const exchange = this.#exchange;
    if (!exchange) return;
    this.#exchange = null;
    clearTimeout(this.#timer);
    exchange.reject(err);
    this.close();
  }
}

interface ExchangeOutcome {
  response: TransportResponse;
  /** The connection may carry another request. */
  reusable: boolean;
}

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close';

/** Reads one response from the bytes of a connection, as they arrive. */
class Exchange {
  readonly resolve: (response: TransportResponse) => void;
  readonly reject: (err: Error) => void;
  /** Some byte of the answer arrived. */
  received = false;
  #phase: Phase = 'head';
  /** Bytes not yet consumed by the current phase. */
  #pending: Buffer | null = null;
  #status = 0;
  #keepAlive = false;
  #remaining = 0;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  #trailerBytes = 0;
  readonly #tls: boolean;

  constructor(resolve: (response: TransportResponse) => void, reject: (err: Error) => void, overTLS: boolean) {
    this.resolve = resolve;
    this.reject = reject;
    this.#tls = overTLS;
  }

  /** Takes the next bytes; returns the outcome once the response is complete. Throws TransportError. */
  read(data: Buffer): ExchangeOutcome | undefined {
    this.received = true;
    let buf = this.#pending ? Buffer.concat([this.#pending, data]) : data;
    this.#pending = null;
    for (;;) {
      switch (this.#phase) {
        case 'head': {
          const end = buf.indexOf(HEAD_END);
          if (end < 0) {
            if (buf.length > MAX_HEAD_BYTES) throw malformed('the response head is too large');
            this.#pending = buf;
            return undefined;
          }
          if (end > MAX_HEAD_BYTES) throw malformed('the response head is too large');
          // An interim (1xx) answer leaves the phase at 'head' for the real one.
          this.#head(buf.toString('latin1', 0, end));
          buf = buf.subarray(end + 4);
          continue;
        }
        case 'length': {
          const take = Math.min(this.#remaining, buf.length);
          if (take > 0) this.#append(buf.subarray(0, take));
          this.#remaining -= take;
          if (this.#remaining === 0) return this.#done(buf.subarray(take));
          return undefined;
        }
        case 'until-close':
          if (buf.length > 0) this.#append(buf);
          return undefined;
        case 'chunk-size': {
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > 1024) throw malformed('a chunk size line is too long');
            this.#pending = buf.length > 0 ? buf : null;
            return undefined;
          }
          const line = CHUNK_SIZE_LINE.exec(buf.toString('latin1', 0, eol));
          if (!line) throw malformed('a chunk size is not hexadecimal');
          const size = parseInt(line[1]!, 16);
          buf = buf.subarray(eol + 2);
          if (size === 0) {
            this.#phase = 'trailers';
          } else {
            if (this.#bodyBytes + size > MAX_RESPONSE_BYTES) throw tooLarge(this.#status);
            this.#remaining = size;
            this.#phase = 'chunk-data';
          }
          continue;
        }
        case 'chunk-data': {
          const take = Math.min(this.#remaining, buf.length);
          if (take > 0) this.#append(buf.subarray(0, take));
          this.#remaining -= take;
          buf = buf.subarray(take);
          if (this.#remaining > 0) return undefined;
          this.#phase = 'chunk-end';
          continue;
        }
        case 'chunk-end': {
          if (buf.length < 2) {
            this.#pending = buf.length > 0 ? buf : null;
            return undefined;
          }
          if (buf[0] !== 13 || buf[1] !== 10) throw malformed('a chunk is longer than its size');
          buf = buf.subarray(2);
          this.#phase = 'chunk-size';
          continue;
        }
        case 'trailers': {
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (this.#trailerBytes + buf.length > MAX_HEAD_BYTES) throw malformed('the trailer fields are too large');
            this.#pending = buf.length > 0 ? buf : null;
            return undefined;
          }
          this.#trailerBytes += eol + 2;
          if (this.#trailerBytes > MAX_HEAD_BYTES) throw malformed('the trailer fields are too large');
          const rest = buf.subarray(eol + 2);
          // Trailer fields are checked like header fields, then ignored; the empty line ends the message.
          if (eol === 0) return this.#done(rest);
          fieldLine(buf.toString('latin1', 0, eol));
          buf = rest;
          continue;
        }
      }
    }
  }

  /** The other end closed the connection: the end of a body read until close, or too early. */
  readEnd(): ExchangeOutcome | undefined {
    if (this.#phase !== 'until-close') return undefined;
    this.#keepAlive = false;
    return this.#done(Buffer.alloc(0));
  }

  /** Parses a response head and sets the body's phase; an interim (1xx) answer is skipped. */
  #head(head: string): void {
    const lines = head.split('\r\n');
    const status = STATUS_LINE.exec(lines[0]!);
    if (!status) throw malformed('the answer is not HTTP/1.x');
    const http11 = status[1] === '1';
    const code = Number(status[2]);
    let contentLength: number | undefined;
    let close = !http11;
    let compressed = false;
    let transferEncodings = 0;
    for (let i = 1; i < lines.length; i += 1) {
      const [name, value] = fieldLine(lines[i]!);
      if (name === 'content-length') {
        // "5, 5" is allowed (RFC 9110 §8.6); differing values are a smuggling attempt or a bug.
        for (const part of value.split(',')) {
          const n = part.replace(OWS_AROUND, '');
          if (!/^\d{1,15}$/.test(n) || (contentLength !== undefined && contentLength !== Number(n))) {
            throw malformed('the Content-Length is not one number');
          }
          contentLength = Number(n);
        }
      } else if (name === 'transfer-encoding') {
        // The client sends no TE, so chunked is the only coding a server may apply (RFC 9110
        // §10.1.4); another one's bytes would be returned as if they were the body.
        transferEncodings += 1;
        if (transferEncodings > 1 || value.toLowerCase() !== 'chunked') {
          throw malformed('the answer has a transfer coding other than chunked');
        }
      } else if (name === 'content-encoding') {
        compressed ||= isCompressed(value);
      } else if (name === 'connection') {
        const options = value.toLowerCase().split(',').map((t) => t.replace(OWS_AROUND, ''));
        if (options.includes('close')) close = true;
      }
    }
    if (code < 200) {
      // 101 would switch protocols, which was never asked for.
      if (code === 101) throw malformed('the answer switches protocols');
      return;
    }
    if (compressed) throw new TransportError('malformed', 'it is compressed, which was not asked for', { status: code });
    this.#status = code;
    this.#keepAlive = !close;
    if (code === 204 || code === 304) {
      this.#phase = 'length';
      this.#remaining = 0;
    } else if (transferEncodings > 0) {
      // RFC 9112 §6.1: both is how requests get smuggled; a server must not send both.
      if (contentLength !== undefined) throw malformed('the answer has both Transfer-Encoding and Content-Length');
      if (!http11) throw malformed('Transfer-Encoding in an HTTP/1.0 answer');
      this.#phase = 'chunk-size';
    } else if (contentLength !== undefined) {
      if (contentLength > MAX_RESPONSE_BYTES) throw tooLarge(this.#status);
      this.#phase = 'length';
      this.#remaining = contentLength;
    } else {
      // Over TLS, a connection cut by a bare TCP FIN (no close_notify) cannot be told from the
      // end of such a body, so a truncated answer would pass as whole (RFC 9112 §9.8). Twitter
      // always frames its answers; an answer that does not is refused there.
      if (this.#tls) throw malformed('an answer over TLS has neither Content-Length nor chunked coding');
      this.#phase = 'until-close';
      this.#keepAlive = false;
    }
  }

  #append(bytes: Buffer): void {
    this.#bodyBytes += bytes.length;
    if (this.#bodyBytes > MAX_RESPONSE_BYTES) throw tooLarge(this.#status);
    this.#body.push(bytes);
  }

  #done(rest: Buffer): ExchangeOutcome {
    const body = this.#body.length === 1 ? this.#body[0]!.toString('utf8') : Buffer.concat(this.#body).toString('utf8');
    this.#body = [];
    // Bytes after the answer were never asked for: the connection is not reused.
    return { response: { status: this.#status, body }, reusable: this.#keepAlive && rest.length === 0 };
  }
}

/** One `name: value` field line: the name lower-cased, the value without its optional whitespace. */
function fieldLine(line: string): [string, string] {
  const colon = line.indexOf(':');
  // A line without a name, folded onto the previous one (obsolete, RFC 9112 §5.2), or holding
  // a bare LF or a NUL.
  if (colon <= 0 || !FIELD_NAME.test(line.slice(0, colon)) || LINE_BREAK.test(line)) {
    throw malformed('a header field is not well-formed');
  }
  return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).replace(OWS_AROUND, '')];
}

function malformed(what: string): TransportError {
  return new TransportError('malformed', what);
}

function tooLarge(status: number): TransportError {
  return new TransportError('too-large', 'the answer is too large', { status });
}

function originKey(target: Target): string {
  return `${target.ssl ? 'https' : 'http'}://${target.host}:${target.port}`;
}

function requestHead(request: PreparedRequest): string {
  const { target } = request;
  // Every value here comes from a parsed URL or is percent-encoded; this keeps it so, as node's
  // http does: a line break in a value would end its header line early.
  if (LINE_BREAK.test(target.path) || LINE_BREAK.test(target.host)) throw headerError();
  let head = `${request.method} ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\n`;
  for (const name in request.headers) {
    const value = request.headers[name]!;
    if (!FIELD_NAME.test(name) || LINE_BREAK.test(value)) throw headerError();
    head += `${name}: ${value}\r\n`;
  }
  if (request.method === 'POST') head += `Content-Length: ${Buffer.byteLength(request.body)}\r\n`;
  return `${head}\r\n`;
}

function headerError(): TypeError {
  return new TypeError('A request header name is not a token, or a value would contain a line break');
}
