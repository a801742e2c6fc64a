import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startFakeTwitter, type FakeTwitter, type FakeTwitterOptions } from '../../lib/testing/index.js';
import { CALLBACK, CONSUMER_KEY, CONSUMER_SECRET, Signer, startFake, twitterError } from './helpers.js';

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One signed request_token call through `agent`; resolves with the status once the body is read. */
function requestTokenVia(fake: FakeTwitter, agent: Agent | undefined, headers: Record<string, string> = {}): Promise<number> {
  const signer = new Signer(fake);
  const params = signer.protocolParams('POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
  return new Promise((resolve, reject) => {
    const req = httpRequest(fake.requestTokenURL, {
      method: 'POST',
      ...(agent === undefined ? {} : { agent }),
      headers: { authorization: signer.authorizationHeader(params), ...headers },
    });
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startFakeTwitter', () => {
  describe('options', () => {
    const valid: FakeTwitterOptions = { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET };

    it('refuses a missing consumerKey or consumerSecret with a TypeError naming it', async () => {
      for (const field of ['consumerKey', 'consumerSecret'] as const) {
        const options = { ...valid, [field]: undefined } as unknown as FakeTwitterOptions;
        let error: unknown;
        try {
          await startFakeTwitter(options);
        } catch (caught) {
          error = caught;
        }
        expect(error).to.be.instanceOf(TypeError);
        expect((error as Error).message).to.include(field);
      }
    });

    it('refuses malformed options with a TypeError naming the option', async () => {
      const cases: Array<[Partial<FakeTwitterOptions>, string]> = [
        [{ port: -1 }, 'options.port'],
        [{ port: 1.5 }, 'options.port'],
        [{ requestTokenTTL: 0 }, 'options.requestTokenTTL'],
        [{ callbackURLs: ['/relative'] }, 'options.callbackURLs[0]'],
        [{ callbackURLs: ['ftp://files.test/cb'] }, 'options.callbackURLs[0]'],
        [{ users: [{ id: 'abc', screen_name: 'a' }] }, 'options.users[0].id'],
        [{ users: [{ id: '1', screen_name: '' }] }, 'options.users[0].screen_name'],
        [{ users: [{ id: '1', screen_name: 'a' }, { id: '2', screen_name: 'A' }] }, 'options.users[1].screen_name'],
        [{ users: [{ id: '1', screen_name: 'a' }], autoApprove: { id: '1', screen_name: 'b' } }, 'options.autoApprove.id'],
      ];
      for (const [options, field] of cases) {
        let error: unknown;
        try {
          await startFakeTwitter({ ...valid, ...options });
        } catch (caught) {
          error = caught;
        }
        expect(error, field).to.be.instanceOf(TypeError);
        expect((error as Error).message, field).to.include(field);
      }
    });

    it('never puts the consumer secret in an error message', async () => {
      try {
        await startFakeTwitter({ ...valid, consumerSecret: 'super-secret-value', port: -1 });
        expect.fail('should have thrown');
      } catch (error) {
        expect((error as Error).message).not.to.include('super-secret-value');
      }
    });

    it('listens on the given port of 127.0.0.1 and reports its URLs', async () => {
      const port = await freePort();
      const fake = await startFake({ port });
      try {
        expect(fake.url).to.equal(`http://127.0.0.1:${port}`);
        expect(fake).to.include({
          requestTokenURL: `http://127.0.0.1:${port}/oauth/request_token`,
          accessTokenURL: `http://127.0.0.1:${port}/oauth/access_token`,
          userAuthorizationURL: `http://127.0.0.1:${port}/oauth/authenticate`,
          authorizeURL: `http://127.0.0.1:${port}/oauth/authorize`,
          consumerKey: CONSUMER_KEY,
        });
        expect(fake.endpoints).to.deep.equal({
          requestTokenURL: fake.requestTokenURL,
          accessTokenURL: fake.accessTokenURL,
          userAuthorizationURL: fake.userAuthorizationURL,
          authorizeURL: fake.authorizeURL,
        });
        expect(await requestTokenVia(fake, undefined)).to.equal(200);
      } finally {
        await fake.close();
      }
    });

    it('rejects when the port is taken', async () => {
      const first = await startFake();
      try {
        const port = Number(new URL(first.url).port);
        let error: unknown;
        try {
          await startFake({ port });
        } catch (caught) {
          error = caught;
        }
        expect((error as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
      } finally {
        await first.close();
      }
    });
  });

  describe('server', () => {
    let fake: FakeTwitter;
    beforeEach(async () => {
      fake = await startFake();
    });
    afterEach(() => fake.close());

    it('answers an unknown path with 404 code 34', async () => {
      const res = await fetch(`${fake.url}/1.1/statuses/update.json`, { method: 'POST' });
      expect(res.status).to.equal(404);
      expect(await res.json()).to.deep.equal({ errors: [{ code: 34, message: 'Sorry, that page does not exist.' }] });
    });

    it('answers a known path with the wrong method with 404 code 34, without counting it', async () => {
      const res = await fetch(fake.requestTokenURL);
      expect(res.status).to.equal(404);
      expect((await twitterError(res)).code).to.equal(34);
      expect(fake.stats().requestToken).to.equal(0);
    });

    it('refuses a body over 64 KiB with 413', async () => {
      const res = await fetch(fake.requestTokenURL, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `a=${'x'.repeat(64 * 1024)}`,
      });
      expect(res.status).to.equal(413);
      expect(await res.json()).to.deep.equal({ errors: [{ message: 'Request entity too large.' }] });
    });

    it('refuses a streamed body that grows over 64 KiB with 413', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(fake.requestTokenURL, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        for (let i = 0; i < 20; i += 1) req.write('x'.repeat(4096));
        req.end();
      });
      expect(status).to.equal(413);
    });

    it('answers malformed HTTP with 400 and keeps serving', async () => {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(fake.url).port), '127.0.0.1');
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
        socket.end('NOT HTTP AT ALL\r\n\r\n');
      });
      expect(answer).to.match(/^HTTP\/1\.1 400 /);
      expect(await requestTokenVia(fake, undefined)).to.equal(200);
    });

    it('answers 500 code 131 when a handler throws, and keeps serving', async () => {
      // Node refuses to send a header value with a newline: the throw happens inside the handler.
      fake.injectFault('request_token', { status: 503, headers: { 'x-bad': 'a\nb' } }, { times: 1 });
      const res = await fetch(fake.requestTokenURL, { method: 'POST' });
      expect(res.status).to.equal(500);
      expect(await res.json()).to.deep.equal({ errors: [{ code: 131, message: 'Internal error.' }] });
      expect(await requestTokenVia(fake, undefined)).to.equal(200);
    });

    it('counts one connection when a client reuses a keep-alive agent', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < 3; i += 1) expect(await requestTokenVia(fake, agent)).to.equal(200);
        expect(fake.stats()).to.include({ requestToken: 3, connections: 1 });
      } finally {
        agent.destroy();
      }
    });

    it('counts a connection per request when the client closes them', async () => {
      for (let i = 0; i < 3; i += 1) expect(await requestTokenVia(fake, undefined, { connection: 'close' })).to.equal(200);
      expect(fake.stats().connections).to.equal(3);
    });
  });

  describe('close()', () => {
    it('resolves while a request hangs, closing its connection', async () => {
      const fake = await startFake();
      fake.injectFault('request_token', { type: 'hang' });
      const pending = fetch(fake.requestTokenURL, { method: 'POST' }).then(
        () => 'answered',
        () => 'connection closed',
      );
      while (fake.stats().requestToken === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await fake.close();
      expect(await pending).to.equal('connection closed');
    });

    it('resolves with idle keep-alive connections open', async () => {
      const fake = await startFake();
      const agent = new Agent({ keepAlive: true });
      try {
        expect(await requestTokenVia(fake, agent)).to.equal(200);
        const started = Date.now();
        await fake.close();
        // Under the server's 5 s keep-alive timeout: the idle socket was closed, not waited for.
        // (Closing takes milliseconds; the bound leaves seconds for a loaded machine.)
        expect(Date.now() - started).to.be.below(4000);
      } finally {
        agent.destroy();
      }
    });

    it('resolves while a delayed answer is pending, and can be called twice', async () => {
      const fake = await startFake();
      fake.injectFault('request_token', { type: 'delay', ms: 60_000 });
      const pending = fetch(fake.requestTokenURL, { method: 'POST' }).catch(() => 'connection closed');
      while (fake.stats().requestToken === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await Promise.all([fake.close(), fake.close()]);
      expect(await pending).to.equal('connection closed');
    });
  });
});
