/**
 * Load: thousands of complete sign-ins against one app instance, at high concurrency, to see
 * what stays behind (memory, pending sign-ins) and how fast it goes.
 *
 *   npx tsx scripts/load.ts [--signins 5000] [--concurrency 200] [--warmup 200] [--redis URL]
 *   node --expose-gc --import tsx scripts/load.ts …   # adds the after-GC numbers
 *
 * Three threads, so the app's heap and event loop are the app's alone:
 * - main: the app (Express 5, express-session with MemoryStore, or RedisStore with --redis,
 *   passport, TwitterSignInStrategy) and the measurements;
 * - a worker: the fake Twitter with `autoApprove`;
 * - a worker: the browsers, each with its own cookie, doing start → fake → callback.
 * RSS is the whole process (all three threads); heap is the app's thread only.
 *
 * Prints a Markdown table. Exits 1 when a sign-in failed or a pending sign-in was left behind.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session, { type Store } from 'express-session';
import { Passport } from 'passport';
import { createClient } from 'redis';
import { TwitterSignInStrategy } from '../lib/index.js';
import { startFakeTwitter } from '../lib/testing/index.js';

const CONSUMER_KEY = 'load-consumer-key';
const CONSUMER_SECRET = 'load-consumer-secret';
const USER = { id: '783214', screen_name: 'load_user' };
const PENDING_KEY = `oauth:twitter:${CONSUMER_KEY}`;
/** How often the main thread samples memory while the load runs. */
const SAMPLE_MS = 20;

interface FakeReady {
  requestTokenURL: string;
  accessTokenURL: string;
  userAuthorizationURL: string;
}

interface FakeStatsReply {
  connections: number;
  requestToken: number;
  accessToken: number;
}

/** A batch of sign-ins, as the browsers' worker reports it. */
interface RunResult {
  ok: number;
  /** Failure reason → count, e.g. `callback: HTTP 500 ERR_TWITTER_TIMEOUT`. */
  failures: Record<string, number>;
  ms: number;
  latencies: number[];
  /** New TCP connections the browsers opened to the fake Twitter (the rest of the fake's are the app's). */
  browserConnectionsToFake: number;
}

type ToClient = { run: number; concurrency: number } | { stop: true };
type ToFake = { stats: true } | { stop: true };

if (isMainThread) {
  await main();
} else if ((workerData as { role: string }).role === 'fake') {
  await fakeThread();
} else {
  await clientThread(workerData as { role: 'client'; appURL: string });
}

// ---------------------------------------------------------------------------------------------
// Main thread: the app and the measurements.

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      signins: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '200' },
      redis: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log('Usage: npx tsx scripts/load.ts [--signins 5000] [--concurrency 200] [--warmup 200] [--redis URL]');
    return;
  }
  const signins = positiveInt(values.signins, '--signins');
  const concurrency = positiveInt(values.concurrency, '--concurrency');
  const warmup = positiveInt(values.warmup, '--warmup');
  const gc = (globalThis as { gc?: () => void }).gc;

  const fake = startWorker<FakeReady>({ role: 'fake' });
  const twitter = await fake.ready;
  const app = await startApp(twitter, values.redis);
  const client = startWorker<true>({ role: 'client', appURL: app.url });
  await client.ready;

  const run = async (n: number) => {
    client.worker.postMessage({ run: n, concurrency } satisfies ToClient);
    return (await client.next()) as RunResult;
  };

  // Warm-up: JIT, connection pools, lazily created objects; its sessions stay in the store and
  // count in the baseline.
  const warm = await run(warmup);
  if (warm.ok !== warmup) throw new Error(`warm-up failed: ${JSON.stringify(warm.failures)}`);
  await settle(gc);
  const baseline = process.memoryUsage();
  const sessionsBefore = (await app.inspect()).sessions;

  let peakHeap = baseline.heapUsed;
  let peakRss = baseline.rss;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, SAMPLE_MS);
  const result = await run(signins);
  clearInterval(sampler);
  const during = process.memoryUsage();
  peakHeap = Math.max(peakHeap, during.heapUsed);
  peakRss = Math.max(peakRss, during.rss);

  await settle(gc);
  const after = process.memoryUsage();
  const store = await app.inspect();
  fake.worker.postMessage({ stats: true } satisfies ToFake);
  const fakeStats = (await fake.next()) as FakeStatsReply;
  const appConnections = fakeStats.connections - warm.browserConnectionsToFake - result.browserConnectionsToFake;

  const failed = signins - result.ok;
  const lat = [...result.latencies].sort((x, y) => x - y);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!.toFixed(0) : '–');
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const newSessions = store.sessions - sessionsBefore;
  const rows: [string, string][] = [
    ['sign-ins', `${signins} at concurrency ${concurrency} (after ${warmup} warm-up), ${values.redis ? 'RedisStore' : 'MemoryStore'}`],
    ['completed / failed', `${result.ok} / ${failed}${failed ? ` (${Object.entries(result.failures).map(([k, v]) => `${k}: ${v}`).join('; ')})` : ''}`],
    ['throughput', `${((result.ok / result.ms) * 1000).toFixed(0)} sign-ins/s (${(result.ms / 1000).toFixed(2)} s)`],
    ['latency per sign-in (3 requests) p50 / p95 / p99', `${pct(50)} / ${pct(95)} / ${pct(99)} ms`],
    ['app heap used: baseline / peak / after', `${mb(baseline.heapUsed)} / ${mb(peakHeap)} / ${mb(after.heapUsed)} MB`],
    ['process RSS: baseline / peak / after', `${mb(baseline.rss)} / ${mb(peakRss)} / ${mb(after.rss)} MB`],
    [
      gc ? 'app heap growth, baseline → after GC' : 'app heap growth, baseline → after (no GC)',
      `${mb(after.heapUsed - baseline.heapUsed)} MB, ${((after.heapUsed - baseline.heapUsed) / signins / 1024).toFixed(2)} KB per sign-in ` +
        `(the ${values.redis ? 'Redis store' : 'MemoryStore'} now holds ${newSessions} more signed-in sessions)`,
    ],
    ['pending sign-ins left in the store', `${store.pendingEntries} (in ${store.sessionsWithPending} sessions)`],
    ['TCP connections, app → fake Twitter', `${appConnections} for ${fakeStats.requestToken + fakeStats.accessToken} signed calls (keep-alive)`],
  ];
  console.log(`\nLoad: Node ${process.version}, ${os.cpus().length} CPUs, ${gc ? 'after-GC figures after global.gc()' : 'no --expose-gc: "after" is without a forced GC'}\n`);
  console.log('| measure | value |\n| --- | --- |');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);

  client.worker.postMessage({ stop: true } satisfies ToClient);
  fake.worker.postMessage({ stop: true } satisfies ToFake);
  await Promise.all([client.exited, fake.exited]);
  await app.close();
  process.exitCode = failed > 0 || store.pendingEntries > 0 ? 1 : 0;
}

interface LoadApp {
  url: string;
  /** Sessions in the store, and the pending sign-ins they hold. */
  inspect(): Promise<{ sessions: number; sessionsWithPending: number; pendingEntries: number }>;
  close(): Promise<void>;
}

async function startApp(twitter: FakeReady, redisURL: string | undefined): Promise<LoadApp> {
  const strategy = new TwitterSignInStrategy(
    { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: '/auth/twitter/callback', ...twitter },
    async (_token, _tokenSecret, profile) => ({ id: profile.id, username: profile.username }),
  );
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  // The store, and how to read every session back from it.
  let store: Store;
  let all: () => Promise<unknown[]>;
  let closeStore = async () => {};
  if (redisURL) {
    const client = createClient({ url: redisURL, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
    client.on('error', (err: Error) => console.error('Redis:', err.message));
    await client.connect();
    // A prefix of its own, removed at the end: the script must not touch anyone else's keys.
    const prefix = `load:${process.pid}:${Date.now()}:`;
    store = new RedisStore({ client, prefix });
    const keys = async () => {
      const found: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
        found.push(...(Array.isArray(batch) ? batch : [batch]));
      }
      return found;
    };
    all = async () => {
      const found = await keys();
      const values = found.length ? await client.mGet(found) : [];
      return values.filter((v): v is string => typeof v === 'string').map((v) => JSON.parse(v) as unknown);
    };
    closeStore = async () => {
      const found = await keys();
      for (let i = 0; i < found.length; i += 1000) await client.del(found.slice(i, i + 1000));
      await client.close();
    };
  } else {
    const memory = new session.MemoryStore();
    store = memory;
    all = () =>
      new Promise((resolve, reject) =>
        memory.all((err, sessions) => (err ? reject(err) : resolve(Object.values(sessions ?? {})))),
      );
  }

  const app = express();
  app.use(session({ store, secret: 'load-session-secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  const auth: express.RequestHandler = (req, res, next) =>
    passport.authenticate('twitter', (err: unknown, user: Express.User | false, info: unknown) => {
      if (err) return res.status(500).json({ error: (err as { code?: string }).code ?? 'ERR' });
      if (!user) return res.status(401).json({ failure: (info as { code?: string } | undefined)?.code ?? 'FAIL' });
      req.logIn(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ user })));
    })(req, res, next);
  app.get('/auth/twitter', auth);
  app.get('/auth/twitter/callback', auth);

  const server: http.Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  // Keep-alive connections from a few hundred browsers: don't let the default 5 s cut them mid-run.
  server.keepAliveTimeout = 60_000;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inspect: async () => {
      let sessionsWithPending = 0;
      let pendingEntries = 0;
      const sessions = await all();
      for (const s of sessions) {
        const pending = (s as Record<string, unknown>)[PENDING_KEY];
        if (Array.isArray(pending) && pending.length > 0) {
          sessionsWithPending += 1;
          pendingEntries += pending.length;
        }
      }
      return { sessions: sessions.length, sessionsWithPending, pendingEntries };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeStore();
    },
  };
}

/** A worker running this file in another role; `ready` is its first message, `next()` any later one. */
function startWorker<Ready>(data: Record<string, unknown>): {
  worker: Worker;
  ready: Promise<Ready>;
  next(): Promise<unknown>;
  exited: Promise<void>;
} {
  // Loader hooks (tsx) are per thread in Node 20: the worker registers tsx, then loads this file.
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(code, { eval: true, workerData: data });
  const queue: unknown[] = [];
  const waiting: ((value: unknown) => void)[] = [];
  let failed: ((err: Error) => void)[] = [];
  worker.on('message', (message: unknown) => {
    const resolve = waiting.shift();
    if (resolve) resolve(message);
    else queue.push(message);
  });
  worker.on('error', (err) => {
    for (const reject of failed) reject(err);
    failed = [];
    console.error(`The ${String(data.role)} worker failed:`, err);
    process.exitCode = 1;
  });
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      failed.push(reject);
      if (queue.length) resolve(queue.shift());
      else waiting.push(resolve);
    });
  return {
    worker,
    ready: next() as Promise<Ready>,
    next,
    exited: new Promise((resolve) => worker.once('exit', () => resolve())),
  };
}

/** Lets in-flight work finish, then collects garbage (when exposed) until the heap stops shrinking. */
async function settle(gc: (() => void) | undefined): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  if (!gc) return;
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (used >= last * 0.99) break;
    last = used;
  }
}

function positiveInt(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new TypeError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Worker: the fake Twitter.

async function fakeThread(): Promise<void> {
  const fake = await startFakeTwitter({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, autoApprove: USER });
  parentPort!.on('message', (message: ToFake) => {
    if ('stats' in message) {
      const { connections, requestToken, accessToken } = fake.stats();
      parentPort!.postMessage({ connections, requestToken, accessToken } satisfies FakeStatsReply);
    } else {
      void fake.close().then(() => parentPort!.close());
    }
  });
  parentPort!.postMessage({
    requestTokenURL: fake.requestTokenURL,
    accessTokenURL: fake.accessTokenURL,
    userAuthorizationURL: fake.userAuthorizationURL,
  } satisfies FakeReady);
}

// ---------------------------------------------------------------------------------------------
// Worker: the browsers.

async function clientThread({ appURL }: { appURL: string }): Promise<void> {
  let agent = new http.Agent({ keepAlive: true });
  parentPort!.on('message', (message: ToClient) => {
    if ('stop' in message) {
      agent.destroy();
      parentPort!.close();
      return;
    }
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: message.concurrency });
    void runSignIns(appURL, agent, message.run, message.concurrency).then((result) => parentPort!.postMessage(result));
  });
  parentPort!.postMessage(true);
}

async function runSignIns(appURL: string, agent: http.Agent, total: number, concurrency: number): Promise<RunResult> {
  const result: RunResult = { ok: 0, failures: {}, ms: 0, latencies: [], browserConnectionsToFake: 0 };
  let next = 0;
  const started = performance.now();
  const browser = async () => {
    while (next < total) {
      next += 1;
      const t0 = performance.now();
      const failure = await signIn(appURL, agent, result).catch((err: Error) => `network: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      result.latencies.push(performance.now() - t0);
      if (failure === undefined) result.ok += 1;
      else result.failures[failure] = (result.failures[failure] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, browser));
  result.ms = performance.now() - started;
  return result;
}

/** One browser's sign-in; returns why it failed, or undefined. */
async function signIn(appURL: string, agent: http.Agent, counters: RunResult): Promise<string | undefined> {
  const start = await get(`${appURL}/auth/twitter`, agent);
  if (start.status !== 302 || !start.location) return `start: HTTP ${start.status} ${start.body.slice(0, 80)}`;
  const cookie = start.setCookie.map((line) => line.split(';')[0]).join('; ');
  const approved = await get(start.location, agent);
  if (!approved.reusedSocket) counters.browserConnectionsToFake += 1;
  if (approved.status !== 302 || !approved.location) return `fake: HTTP ${approved.status}`;
  const callback = await get(approved.location, agent, cookie);
  if (callback.status !== 200) return `callback: HTTP ${callback.status} ${callback.body.slice(0, 80)}`;
  const body = JSON.parse(callback.body) as { user?: { id?: string } };
  return body.user?.id === USER.id ? undefined : `callback: wrong user ${callback.body.slice(0, 80)}`;
}

function get(
  url: string,
  agent: http.Agent,
  cookie?: string,
): Promise<{ status: number; location: string | undefined; setCookie: string[]; body: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: cookie ? { cookie } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          setCookie: res.headers['set-cookie'] ?? [],
          body: Buffer.concat(chunks).toString('utf8'),
          reusedSocket: req.reusedSocket,
        }),
      );
    });
    req.on('error', reject);
  });
}
