/**
 * A provider on loopback whose answer each test chooses, for client tests that need exact
 * control of what comes back (an echo, a reset, silence, a hostile body): it records every
 * request it was sent, headers and body, and counts connections.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: object;
}

export type Answer = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void;

export interface Provider {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request so far, in order of arrival. */
  seen: Seen[];
  connections: () => number;
  /** Stops the server, closing hanging and idle connections too. */
  close: () => Promise<void>;
}

export async function provider(answer: Answer): Promise<Provider> {
  const seen: Seen[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), socket: req.socket };
      seen.push(s);
      answer(req, res, s);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Answers JSON with `status`. */
export function json(res: http.ServerResponse, status: number, value: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(value));
}
