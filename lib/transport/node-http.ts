/**
 * The transport through Node's `http`/`https` modules: with an `http.Agent` the app gives (a
 * proxy agent, a private certificate authority, connection limits), or with this transport's
 * own keep-alive agents while an HTTP mocking library (nock, msw) has replaced `http.request`,
 * so that the app's tests see the calls. Slower per call than {@link Http1Transport}, and the
 * same contract.
 */
import http from 'node:http';
import https from 'node:https';
import { types } from 'node:util';
import {
  hangUp,
  IDLE_SOCKET_TIMEOUT,
  isCompressed,
  MAX_RESPONSE_BYTES,
  sanitizeCause,
  TransportError,
  type PreparedRequest,
  type Transport,
  type TransportResponse,
} from './transport.js';

// node's own request functions, as they were when this module loaded.
const NODE_HTTP_REQUEST = http.request;
const NODE_HTTPS_REQUEST = https.request;
// Node's own http.request and https.request are JS functions named `request` in node's sources.
const NODE_REQUEST_SOURCE = /^function request\(/;
// The last function looked at for http and for https, and the verdict: the check runs on every
// call to Twitter, and the verdict for one function depends on which module it sits in.
const lastSeen: [{ request: unknown; replaced: boolean }, { request: unknown; replaced: boolean }] = [
  { request: undefined, replaced: false },
  { request: undefined, replaced: false },
];

/**
 * Whether something replaced node's `http.request` or `https.request`: nock (14 and later) and
 * msw wrap them in a Proxy; older nock, sinon stubs and APM agents swap in their own function,
 * possibly before this module loaded. Calls must then go through them, or the mocks would never
 * see them. A heuristic: an app can always choose node's http with the `agent` option.
 */
export function nodeRequestReplaced(ssl: boolean): boolean {
  const request = ssl ? https.request : http.request;
  const seen = lastSeen[ssl ? 1 : 0];
  if (request === seen.request) return seen.replaced;
  seen.request = request;
  seen.replaced =
    request !== (ssl ? NODE_HTTPS_REQUEST : NODE_HTTP_REQUEST) ||
    types.isProxy(request) ||
    !NODE_REQUEST_SOURCE.test(Function.prototype.toString.call(request));
  return seen.replaced;
}

export class NodeHttpTransport implements Transport {
  /** The app's agent, for both schemes; left open by destroy(). */
  readonly #agent: http.Agent | undefined;
  #httpAgent: http.Agent | undefined;
  #httpsAgent: https.Agent | undefined;

  /** Without `agent`, keep-alive agents owned by this transport. */
  constructor(agent?: http.Agent) {
    this.#agent = agent;
  }

  #agentFor(ssl: boolean): http.Agent {
    if (this.#agent) return this.#agent;
    if (ssl) return (this.#httpsAgent ??= new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT }));
    return (this.#httpAgent ??= new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT }));
  }

  /** `fresh` is not supported: the agent chooses the socket. */
  send(request: PreparedRequest, timeout: number): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      let settled = false;
      let responded = false;
      let req: http.ClientRequest | undefined;
      const finish = (err: TransportError | null, res?: TransportResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req?.destroy();
          reject(err);
        } else resolve(res!);
      };
      const timer = setTimeout(() => finish(new TransportError('timeout', 'no complete answer in time')), timeout);

      const { target } = request;
      const headers: http.OutgoingHttpHeaders = { Host: target.host, ...request.headers };
      if (request.method === 'POST') headers['Content-Length'] = Buffer.byteLength(request.body);
      const options: http.RequestOptions = {
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        method: request.method,
        headers,
        agent: this.#agentFor(target.ssl),
      };
      try {
        req = target.ssl ? https.request(options) : http.request(options);
      } catch (cause) {
        finish(new TransportError('network', 'the request could not be sent', { cause: sanitizeCause(cause) }));
        return;
      }

      req.on('error', (cause: NodeJS.ErrnoException) => {
        if (req!.reusedSocket && cause.code === 'ECONNRESET' && !responded) {
          finish(new TransportError('stale', 'the kept-alive connection had been closed'));
          return;
        }
        const clean = sanitizeCause(cause);
        finish(new TransportError('network', clean.code ?? clean.message, { cause: clean }));
      });
      req.on('response', (res) => {
        responded = true;
        if (isCompressed(res.headers['content-encoding'])) {
          finish(
            new TransportError('malformed', 'it is compressed, which was not asked for', { status: res.statusCode ?? 0 }),
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            finish(new TransportError('too-large', 'the answer is too large', { status: res.statusCode ?? 0 }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (cause) => {
          finish(new TransportError('network', 'the connection broke during the answer', { cause: sanitizeCause(cause) }));
        });
        res.on('aborted', () => {
          finish(new TransportError('network', 'the connection broke during the answer', { cause: hangUp() }));
        });
        res.on('end', () => {
          finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(request.body || undefined);
    });
  }

  /** Closes this transport's own agents' connections; an agent the app gave is the app's to close. */
  destroy(): void {
    this.#httpAgent?.destroy();
    this.#httpsAgent?.destroy();
  }
}
