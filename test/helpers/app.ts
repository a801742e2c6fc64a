/**
 * A real Express app with express-session and passport, listening on loopback, and a tiny
 * browser (a cookie jar over fetch, redirects not followed) to drive it.
 */
import type { AddressInfo } from 'node:net';
import http, { type IncomingHttpHeaders, type Server } from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import type { Strategy } from 'passport';

/**
 * A sessionKey of its own for one test's strategy. A strategy remembers the callbacks its scope
 * has taken for the whole process (a callback is exchanged once, whichever strategy object of
 * the scope receives it); tests that reuse made-up token names ('t', 'racy') across tests need
 * a scope each, as real request tokens, being random, never repeat.
 */
export function isolatedScope(): { sessionKey: string } {
  return { sessionKey: `test:${randomUUID()}` };
}

export interface TestApp {
  url: string;
  app: Express;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra passport.authenticate options on the start and callback routes. */
  authenticateOptions?: Record<string, unknown>;
  /** Mount express-session (default true). */
  session?: boolean;
  /** express-session's saveUninitialized (default false). */
  saveUninitialized?: boolean;
  /** Run before the routes (e.g. app.set('trust proxy', true)). */
  configure?: (app: Express) => void;
  /** Serve over HTTPS with this certificate (see helpers/tls.ts). */
  tls?: { cert: Buffer; key: Buffer };
  /** express-session's store (default: a MemoryStore of its own). */
  sessionStore?: session.Store;
  /** Run on the sign-in routes after the session is loaded, before passport.authenticate. */
  beforeAuthenticate?: express.RequestHandler;
}

/**
 * Mounts `/auth/twitter` and `/auth/twitter/callback`; success answers 200 with the user as JSON,
 * failure answers 401 with the failure message as JSON, an error answers 500 with its code.
 */
export async function startApp(strategy: Strategy, options: TestAppOptions = {}): Promise<TestApp> {
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  const app = express();
  options.configure?.(app);
  if (options.session !== false) {
    app.use(
      session({
        secret: 'test-session-secret',
        resave: false,
        saveUninitialized: options.saveUninitialized ?? false,
        ...(options.sessionStore ? { store: options.sessionStore } : {}),
      }),
    );
    app.use(passport.session());
  }
  app.use(passport.initialize());
  const name = (strategy as Strategy & { name: string }).name;
  const auth = (req: express.Request, res: express.Response, next: express.NextFunction) =>
    passport.authenticate(name, { ...options.authenticateOptions }, (err: unknown, user: unknown, info: unknown) => {
      if (err) {
        const e = err as { code?: string; message?: string };
        res.status(500).json({ error: e.code ?? 'ERR', message: e.message });
        return;
      }
      if (!user) {
        res.status(401).json({ failure: info });
        return;
      }
      // As passport.authenticate does without a custom callback: its options reach req.logIn.
      const keepSessionInfo = options.authenticateOptions?.keepSessionInfo === true;
      const session = options.authenticateOptions?.session !== false;
      req.logIn(user as Express.User, { keepSessionInfo, session }, (loginErr) => {
        if (loginErr) return next(loginErr);
        res.json({ user });
      });
    })(req, res, next);
  const before: express.RequestHandler = options.beforeAuthenticate ?? ((_req, _res, next) => next());
  app.get('/auth/twitter', before, auth);
  app.get('/auth/twitter/callback', before, auth);
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  const server: Server = await new Promise((resolve) => {
    const s = options.tls ? https.createServer(options.tls, app) : http.createServer(app);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    app,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A browser's cookie jar: fetch without following redirects, cookies kept by name. Given a
 * certificate authority (`ca`), it speaks HTTPS to a server with a self-signed certificate.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly #ca: Buffer | undefined;

  constructor(options: { ca?: Buffer } = {}) {
    this.#ca = options.ca;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const sent = { ...headers, ...(cookie ? { cookie } : {}) };
    const res = this.#ca ? await viaNode(url, sent, this.#ca) : await fetch(url, { redirect: 'manual', headers: sent });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

/**
 * A GET sent with node's http client, which (unlike fetch) lets a test choose the Host header,
 * as a hostile client can. Resolves with the status, the headers and the body.
 */
export function rawGet(
  url: string,
  headers: Record<string, string>,
  ca?: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { headers, agent: false, setHost: !('host' in headers), ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

// fetch cannot be told to trust a private certificate authority; node's https can.
async function viaNode(url: string, headers: Record<string, string>, ca: Buffer): Promise<Response> {
  const res = await rawGet(url, headers, ca);
  const out = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of ([] as string[]).concat(value ?? [])) out.append(name, v);
  }
  const empty = res.status === 204 || res.status === 304;
  return new Response(empty ? null : res.body, { status: res.status, headers: out });
}
