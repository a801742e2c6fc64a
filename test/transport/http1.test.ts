/**
 * The default transport against a server that writes exact bytes: every way of framing a
 * response it accepts, every malformed one it must refuse, and when a connection may be reused.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Http1Transport } from '../../lib/transport/http1.js';
import { TransportError, type PreparedRequest, type Target } from '../../lib/transport/transport.js';
import { requireBinary } from '../helpers/services.js';

interface Received {
  head: string;
  body: string;
  /** Which connection (0, 1, …) carried it. */
  connection: number;
}

type Answer = (socket: net.Socket, request: Received, index: number) => void;

interface RawServer {
  port: number;
  received: Received[];
  connections: () => number;
  /** Connections the server saw closed. */
  closed: () => number;
  sockets: net.Socket[];
  close(): Promise<void>;
}

/** A TCP server that reads HTTP/1.1 requests and lets each test write the answer's bytes. */
async function rawServer(answer: Answer, wrap?: (listener: (socket: net.Socket) => void) => net.Server): Promise<RawServer> {
  const received: Received[] = [];
  const sockets: net.Socket[] = [];
  let closed = 0;
  const onSocket = (socket: net.Socket) => {
    const connection = sockets.push(socket) - 1;
    // Each write goes out as it is made, so split answers arrive split.
    socket.setNoDelay(true);
    socket.on('close', () => closed++);
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const request = { head, body: buf.toString('latin1', end + 4, end + 4 + length), connection };
        buf = buf.subarray(end + 4 + length);
        received.push(request);
        answer(socket, request, received.length - 1);
      }
    });
  };
  const server = wrap ? wrap(onSocket) : net.createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    connections: () => sockets.length,
    closed: () => closed,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function target(port: number, overrides: Partial<Target> = {}): Target {
  return {
    ssl: false,
    hostname: '127.0.0.1',
    port,
    path: '/oauth/request_token',
    host: `127.0.0.1:${port}`,
    href: `http://127.0.0.1:${port}/oauth/request_token`,
    base: `http://127.0.0.1:${port}/oauth/request_token`,
    ...overrides,
  };
}

function post(port: number, overrides: Partial<Target> = {}, body = 'x_auth_access_type=read'): PreparedRequest {
  return {
    method: 'POST',
    target: target(port, overrides),
    headers: { Authorization: 'OAuth oauth_consumer_key="ck"', 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  };
}

/** Answers with `text`, a whole response written at once as latin1 bytes (`\xNN` is one byte). */
const reply =
  (text: string): Answer =>
  (socket) =>
    socket.write(Buffer.from(text, 'latin1'));

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(TransportError);
    return err as TransportError;
  }
  throw new Error('expected a rejection');
}

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('Http1Transport', () => {
  let server: RawServer | undefined;
  let transport: Http1Transport | undefined;
  afterEach(async () => {
    transport?.destroy();
    await server?.close();
    server = undefined;
    transport = undefined;
  });

  async function start(answer: Answer, options?: ConstructorParameters<typeof Http1Transport>[0]) {
    server = await rawServer(answer);
    transport = new Http1Transport(options);
    return { server, transport };
  }

  describe('sending', () => {
    it('writes one HTTP/1.1 request: request line, Host, the headers, Content-Length and the body', async () => {
      const { server, transport } = await start(reply(OK));
      await transport.send(post(server.port), 1000);
      const { head, body } = server.received[0]!;
      expect(head.split('\r\n')).to.deep.equal([
        'POST /oauth/request_token HTTP/1.1',
        `Host: 127.0.0.1:${server.port}`,
        'Authorization: OAuth oauth_consumer_key="ck"',
        'Content-Type: application/x-www-form-urlencoded',
        'Content-Length: 23',
      ]);
      expect(body).to.equal('x_auth_access_type=read');
    });

    it('sends a GET without Content-Length', async () => {
      const { server, transport } = await start(reply(OK));
      await transport.send({ method: 'GET', target: target(server.port, { path: '/2/users/me?a=b' }), headers: {}, body: '' }, 1000);
      expect(server.received[0]!.head.split('\r\n')).to.deep.equal(['GET /2/users/me?a=b HTTP/1.1', `Host: 127.0.0.1:${server.port}`]);
    });

    it('refuses a header name that is not a token, or a value or path with a line break, before connecting', async () => {
      const { server, transport } = await start(reply(OK));
      const smuggled = post(server.port);
      await expectRejection(
        transport.send({ ...smuggled, headers: { Authorization: 'OAuth x\r\nX-Evil: 1' } }, 1000),
        TypeError,
      );
      await expectRejection(transport.send(post(server.port, { path: '/a\nb' }), 1000), TypeError);
      await expectRejection(transport.send({ ...smuggled, headers: { 'X-A: 1\r\nX-Evil': 'v' } }, 1000), TypeError);
      await tick();
      expect(server.connections()).to.equal(0);
      expect(transport.openConnections).to.equal(0);
    });
  });

  describe('reading the answer', () => {
    it('reads a body framed by Content-Length, and reuses the connection', async () => {
      const { server, transport } = await start(reply(OK));
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
      expect(server.connections()).to.equal(1);
    });

    it('reads a chunked body with chunk extensions and trailer fields, and reuses the connection', async () => {
      const chunked =
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '6;name=value\r\noauth_\r\nB\r\ntoken=abc&x\r\n0\r\nX-Trailer: 1\r\n\r\n';
      const { server, transport } = await start(reply(chunked));
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'oauth_token=abc&x' });
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'oauth_token=abc&x' });
      expect(server.connections()).to.equal(1);
    });

    it('reads an answer that arrives one byte at a time', async () => {
      const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\n, x\r\n0\r\n\r\n';
      const { server, transport } = await start((socket) => {
        void (async () => {
          for (const byte of Buffer.from(text)) {
            socket.write(Buffer.from([byte]));
            await new Promise((r) => setImmediate(r));
          }
        })();
      });
      expect(await transport.send(post(server.port), 2000)).to.deep.equal({ status: 200, body: 'hello, x' });
    });

    const SPLIT: [string, string, string][] = [
      ['a Content-Length answer', OK, 'hello'],
      [
        'a chunked answer with extensions and trailers',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6;a=b\r\noauth_\r\nB\r\ntoken=abc&x\r\n0\r\nX-T: 1\r\n\r\n',
        'oauth_token=abc&x',
      ],
      [
        'a 1xx, then a chunked answer',
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        'hello',
      ],
    ];
    for (const [what, text, body] of SPLIT) {
      it(`reads ${what} split in two at every position, and reuses the connection`, async () => {
        const bytes = Buffer.from(text, 'latin1');
        const { server, transport } = await start((socket, _r, i) => {
          const at = i % (bytes.length + 1);
          socket.write(bytes.subarray(0, at));
          setTimeout(() => socket.write(bytes.subarray(at)), 2);
        });
        for (let at = 0; at <= bytes.length; at++) {
          expect(await transport.send(post(server.port), 1000), `split at ${at}`).to.deep.equal({ status: 200, body });
        }
        expect(server.connections()).to.equal(1);
      });
    }

    it('reads chunk sizes with leading zeros (chunk-size is 1*HEXDIG)', async () => {
      const { server, transport } = await start(
        reply('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000000005\r\nhello\r\n0000000000\r\n\r\n'),
      );
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
    });

    it('reads a body that ends with the connection, and does not reuse it', async () => {
      const { server, transport } = await start((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil close'));
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'until close' });
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'until close' });
      expect(server.connections()).to.equal(2);
    });

    it('skips interim 1xx answers', async () => {
      const { server, transport } = await start(
        reply('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' + OK),
      );
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
    });

    it('reads a body with Content-Encoding: identity', async () => {
      const { server, transport } = await start(reply('HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello'));
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
    });

    it('reads a 204 as an empty body, and any status as it is', async () => {
      const { server, transport } = await start((socket, _r, i) =>
        socket.write(i === 0 ? 'HTTP/1.1 204 No Content\r\n\r\n' : 'HTTP/1.1 503 Busy\r\nContent-Length: 2\r\n\r\nno'),
      );
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 204, body: '' });
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 503, body: 'no' });
      expect(server.connections()).to.equal(1);
    });

    it('decodes the body as UTF-8, even split inside a character', async () => {
      const body = Buffer.from('screen_name=caf\u00e9');
      const { server, transport } = await start((socket) => {
        socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body.subarray(0, -1)]));
        setTimeout(() => socket.write(body.subarray(-1)), 10);
      });
      expect((await transport.send(post(server.port), 1000)).body).to.equal('screen_name=caf\u00e9');
    });
  });

  describe('when a connection is not reused', () => {
    for (const [what, text] of [
      ['the answer says Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello'],
      ['the answer is HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello'],
      ['bytes follow the answer', `${OK}HTTP/1.1 200 OK\r\n`],
    ] as const) {
      it(`closes it when ${what}`, async () => {
        const { server, transport } = await start(reply(text));
        expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
        expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
        expect(server.connections()).to.equal(2);
        await tick();
        expect(server.closed()).to.be.at.least(1);
      });
    }

    it('closes an idle connection after idleTimeout, and a later call opens a new one', async () => {
      const { server, transport } = await start(reply(OK), { idleTimeout: 100 });
      await transport.send(post(server.port), 1000);
      expect(transport.openConnections).to.equal(1);
      await tick(300);
      expect(transport.openConnections).to.equal(0);
      expect(server.closed()).to.equal(1);
      await transport.send(post(server.port), 1000);
      expect(server.connections()).to.equal(2);
    });

    it('forgets an idle connection the server closed, without an error', async () => {
      const { server, transport } = await start(reply(OK));
      await transport.send(post(server.port), 1000);
      server.sockets[0]!.end();
      await tick();
      expect(transport.openConnections).to.equal(0);
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
    });

    it('closes an idle connection that receives bytes nobody asked for', async () => {
      const { server, transport } = await start(reply(OK));
      await transport.send(post(server.port), 1000);
      server.sockets[0]!.write('HTTP/1.1 200 OK\r\n');
      await tick();
      expect(transport.openConnections).to.equal(0);
      await transport.send(post(server.port), 1000);
      expect(server.connections()).to.equal(2);
    });
  });

  describe('failing', () => {
    it("is 'stale' when a reused connection closes before any byte of the answer", async () => {
      const { server, transport } = await start((socket, _r, i) => (i === 0 ? socket.write(OK) : socket.destroy()));
      await transport.send(post(server.port), 1000);
      expect((await failure(transport.send(post(server.port), 1000))).kind).to.equal('stale');
    });

    it("resends with fresh on a new connection, even when another idle one is dead the same way", async () => {
      // Two connections go idle; then the server drops both, unannounced (no FIN reached us).
      let dead = false;
      const { server, transport } = await start((socket, r) =>
        dead && r.connection < 2 ? socket.destroy() : setTimeout(() => socket.write(OK), 20),
      );
      await Promise.all([transport.send(post(server.port), 1000), transport.send(post(server.port), 1000)]);
      dead = true;
      expect((await failure(transport.send(post(server.port), 1000))).kind).to.equal('stale');
      expect(await transport.send(post(server.port), 1000, { fresh: true })).to.deep.equal({ status: 200, body: 'hello' });
      expect(server.received.at(-1)!.connection).to.equal(2);
    });

    it("is 'network', not 'stale', when a new connection closes before answering", async () => {
      const { server, transport } = await start((socket) => socket.destroy());
      expect((await failure(transport.send(post(server.port), 1000))).kind).to.equal('network');
    });

    it("is 'network' when the connection closes in the middle of the answer", async () => {
      const { server, transport } = await start((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhel'));
      expect((await failure(transport.send(post(server.port), 1000))).kind).to.equal('network');
    });

    it("is 'network' with the code when nothing listens", async () => {
      const { server, transport } = await start(reply(OK));
      const { port } = server;
      await server.close();
      const err = await failure(transport.send(post(port), 1000));
      expect(err.kind).to.equal('network');
      expect(err.message).to.equal('ECONNREFUSED');
    });

    it("is 'timeout' when the answer does not complete in time, and the connection is closed", async () => {
      const { server, transport } = await start((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe'));
      const started = Date.now();
      expect((await failure(transport.send(post(server.port), 100))).kind).to.equal('timeout');
      expect(Date.now() - started).to.be.within(90, 1000);
      await tick();
      expect(server.closed()).to.equal(1);
      expect(transport.openConnections).to.equal(0);
    });

    const MALFORMED: [string, string][] = [
      ['the answer is not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n'],
      ['the status line has no code', 'HTTP/1.1 OK\r\n\r\n'],
      ['the answer is HTTP/2', 'HTTP/2 200\r\n\r\n'],
      ['a header line has no name', 'HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n'],
      ['a header line is folded', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 0\r\n\r\n'],
      ['a header name has a space', 'HTTP/1.1 200 OK\r\nContent Length: 0\r\n\r\n'],
      // A bare LF would hide the Content-Length inside X-A's value (RFC 9110 §5.5).
      ['a header value holds a bare LF', 'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 5\r\n\r\nhello'],
      ['a header value holds a NUL', 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 5\r\n\r\nhello'],
      // Optional whitespace is spaces and tabs only; String#trim would also strip these.
      ['Content-Length is padded with VT', 'HTTP/1.1 200 OK\r\nContent-Length: \x0b5\x0b\r\n\r\nhello'],
      ['Content-Length is padded with FF', 'HTTP/1.1 200 OK\r\nContent-Length: \x0c5\r\n\r\nhello'],
      ['Content-Length is padded with NBSP (0xA0)', 'HTTP/1.1 200 OK\r\nContent-Length: 5\xa0\r\n\r\nhello'],
      ["the transfer coding is 'chunked\\xa0'", 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\xa0\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
      // No TE was sent, so a coding other than chunked would return its raw bytes as the body.
      ['the transfer coding is gzip, chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\n\x1f\x8b\x08\x00\x00\r\n0\r\n\r\n'],
      // Requests ask for identity; a compressed body would be handed on as if it were text.
      ['the answer is compressed', 'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\n\x1f\x8b\x08\x00\x00'],
      ['Transfer-Encoding appears twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['a trailer line is not a field line', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nnot a field line\r\n\r\n'],
      ['Content-Length is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello'],
      ['Content-Length has two values', 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello'],
      ['Content-Length appears twice, differently', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 4\r\n\r\nhello'],
      ['both Transfer-Encoding and Content-Length', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
      ['a chunk size is not hexadecimal', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
      ['a chunk is longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n'],
      ['it switches protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'],
      ['the head is over 16 KiB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\nContent-Length: 0\r\n\r\n`],
      ['the head never ends', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(17 * 1024)}`],
    ];
    for (const [what, text] of MALFORMED) {
      it(`is 'malformed' when ${what}, and closes the connection`, async () => {
        const { server, transport } = await start(reply(text));
        expect((await failure(transport.send(post(server.port), 1000))).kind).to.equal('malformed');
        await tick();
        expect(server.closed()).to.equal(1);
        expect(transport.openConnections).to.equal(0);
      });
    }

    const BIG = 1024 * 1024 + 1;
    const TOO_LARGE: [string, Answer][] = [
      ['Content-Length says so', reply(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG}\r\n\r\n`)],
      ['a chunk says so', reply(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${BIG.toString(16)}\r\n`)],
      ['chunks add up to it', (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        for (let i = 0; i < 17; i++) socket.write(`10000\r\n${'a'.repeat(0x10000)}\r\n`);
      }],
      ['a body read until close grows past it', (socket) => socket.end(`HTTP/1.1 200 OK\r\n\r\n${'a'.repeat(BIG)}`)],
    ];
    for (const [what, answer] of TOO_LARGE) {
      it(`is 'too-large' over 1 MiB when ${what}`, async () => {
        const { server, transport } = await start(answer);
        expect((await failure(transport.send(post(server.port), 2000))).kind).to.equal('too-large');
      });
    }
  });

  describe('destroy()', () => {
    it('closes idle and busy connections; a call in flight fails, and the transport stays usable', async () => {
      let hold = false;
      const { server, transport } = await start((socket) => (hold ? undefined : setTimeout(() => socket.write(OK), 20)));
      await Promise.all([transport.send(post(server.port), 1000), transport.send(post(server.port), 1000)]);
      hold = true;
      const inFlight = failure(transport.send(post(server.port), 1000));
      await tick();
      expect(transport.openConnections, 'one busy, one idle').to.equal(2);
      transport.destroy();
      expect((await inFlight).kind).to.equal('network');
      expect(transport.openConnections).to.equal(0);
      await tick();
      expect(server.closed()).to.equal(2);
      hold = false;
      expect(await transport.send(post(server.port), 1000)).to.deep.equal({ status: 200, body: 'hello' });
    });
  });

  describe('over TLS', () => {
    let dir: string;
    let cert: Buffer;
    let key: Buffer;
    before(function () {
      const openssl = requireBinary(this, 'openssl', 'openssl');
      dir = mkdtempSync(join(tmpdir(), 'http1-tls-'));
      execFileSync(openssl, [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      cert = readFileSync(join(dir, 'cert.pem'));
      key = readFileSync(join(dir, 'key.pem'));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function tlsServer(
      answer: Answer,
    ): Promise<{ server: RawServer; servernames: (string | false | null)[]; resumed: boolean[] }> {
      const servernames: (string | false | null)[] = [];
      const resumed: boolean[] = [];
      const server = await rawServer(answer, (listener) =>
        tls.createServer({ cert, key }, (socket) => {
          servernames.push(socket.servername);
          resumed.push(socket.isSessionReused());
          listener(socket);
        }),
      );
      return { server, servernames, resumed };
    }

    const localhost = (port: number): Partial<Target> => ({ ssl: true, hostname: 'localhost', host: `localhost:${port}` });

    it('verifies the certificate: a certificate no authority signed fails as network', async () => {
      const started = await tlsServer(reply(OK));
      server = started.server;
      transport = new Http1Transport();
      const err = await failure(transport.send(post(server.port, localhost(server.port)), 2000));
      expect(err.kind).to.equal('network');
      expect(err.message).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
    });

    it('talks HTTP/1.1 over TLS with SNI when the authority is trusted, and reuses the connection', async () => {
      const started = await tlsServer(reply(OK));
      server = started.server;
      transport = new Http1Transport({ tls: { ca: cert } });
      expect(await transport.send(post(server.port, localhost(server.port)), 2000)).to.deep.equal({ status: 200, body: 'hello' });
      expect(await transport.send(post(server.port, localhost(server.port)), 2000)).to.deep.equal({ status: 200, body: 'hello' });
      expect(server.connections()).to.equal(1);
      expect(started.servernames).to.deep.equal(['localhost']);
    });

    it('resumes the TLS session on a new connection to the same origin', async () => {
      const started = await tlsServer(reply(OK));
      server = started.server;
      transport = new Http1Transport({ idleTimeout: 50, tls: { ca: cert } });
      await transport.send(post(server.port, localhost(server.port)), 2000);
      await tick(200);
      expect(transport.openConnections, 'closed as idle').to.equal(0);
      await transport.send(post(server.port, localhost(server.port)), 2000);
      expect(started.resumed).to.deep.equal([false, true]);
    });

    it('fails a certificate for another host name as network, without a hang', async () => {
      server = (await tlsServer(reply(OK))).server;
      transport = new Http1Transport({ tls: { ca: cert } });
      // The certificate names localhost only; 127.0.0.1 is not in it.
      const err = await failure(transport.send(post(server.port, { ssl: true }), 2000));
      expect(err.kind).to.equal('network');
      expect(err.message).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
    });

    for (const [how, close] of [
      ['destroys', (s: net.Socket) => s.destroy()],
      ['ends', (s: net.Socket) => s.end()],
    ] as const) {
      it(`is 'stale' when the server ${how} a reused TLS connection before answering`, async () => {
        server = (await tlsServer((socket, _r, i) => (i === 0 ? socket.write(OK) : close(socket)))).server;
        transport = new Http1Transport({ tls: { ca: cert } });
        await transport.send(post(server.port, localhost(server.port)), 2000);
        expect((await failure(transport.send(post(server.port, localhost(server.port)), 2000))).kind).to.equal('stale');
      });
    }

    it('refuses a body read until close over TLS: a bare FIN cannot be told from its end', async () => {
      // RFC 9112 §9.8: a TCP FIN without TLS close_notify may be forged or a truncation.
      server = (await tlsServer((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\noauth_token=abc&oauth_tok'))).server;
      transport = new Http1Transport({ tls: { ca: cert } });
      expect((await failure(transport.send(post(server.port, localhost(server.port)), 2000))).kind).to.equal('malformed');
    });

    it('lets the process exit while TCP and TLS connections are kept idle', async function () {
      this.timeout(20_000);
      server = (await tlsServer(reply(OK))).server;
      const plain = await rawServer(reply(OK));
      try {
        const transportModule = fileURLToPath(new URL('../../lib/transport/http1.ts', import.meta.url));
        const script = join(dir, 'exit.mts');
        writeFileSync(
          script,
          `import { Http1Transport } from ${JSON.stringify(transportModule)};
           const t = new Http1Transport({ tls: { ca: ${JSON.stringify(cert.toString())} } });
           const at = (ssl: boolean, port: number) => ({ method: 'POST', headers: {}, body: 'a=b',
             target: { ssl, hostname: ssl ? 'localhost' : '127.0.0.1', port, path: '/', host: 'x', href: '', base: '' } } as const);
           await t.send(at(true, ${server.port}), 2000);
           await t.send(at(false, ${plain.port}), 2000);
           console.log('open', t.openConnections);`,
        );
        const started = Date.now();
        const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        const code = await new Promise<number | null>((resolve) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), 8000);
          child.on('exit', (c) => {
            clearTimeout(kill);
            resolve(c);
          });
        });
        expect(out).to.include('open 2');
        expect(code, out).to.equal(0);
        // Well before the 4 s idle timeout: the idle sockets do not hold the event loop.
        expect(Date.now() - started).to.be.below(3500);
      } finally {
        await plain.close();
      }
    });
  });
});

async function expectRejection(promise: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(type);
    return;
  }
  throw new Error('expected a rejection');
}
