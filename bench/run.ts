/**
 * `npm run bench`: this package against passport-twitter, side by side, in real processes on
 * loopback.
 *
 * - `bench/fake.ts`: the fake Twitter (autoApprove), pinned to core 0 with this driver.
 * - `bench/app.ts <contender>`: one Express 5 + express-session + passport app per contender,
 *   each pinned to core 1 (only one is under load at a time).
 * - This driver: complete sign-ins like a browser with a cookie jar (start → Twitter's
 *   authenticate, which redirects straight back → callback), at a fixed concurrency, after a
 *   warm-up, in rounds that rotate the contenders' order. Reports medians over rounds and
 *   ratios to passport-twitter doing the same work (`skipExtendedUserProfile: true`).
 * - Then, unless `--no-profile`, a `node --cpu-prof` run of some contenders, summarised by
 *   package (bench/summarize-profile.ts).
 *
 * Writes bench/RESULTS.md (and bench/out/results.json, bench/out/profiles/) and prints the report.
 * Exits 1 when anything fails (a sign-in, a child process), after stopping every child;
 * with `--check`, exits 3 when a target is missed.
 *
 * Usage: node --import tsx bench/run.ts [--quick] [--rounds N] [--signins N] [--concurrency N]
 *          [--warmup N] [--contenders a,b] [--profile a,b | --no-profile] [--profile-signins N]
 *          [--cpu-prof <contender>] [--no-pin] [--no-build] [--check]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BASELINE,
  CONTENDERS,
  DESCRIPTIONS,
  SUCCESS_BODY,
  isContender,
  type AppReady,
  type AppStats,
  type Contender,
  type FakeReady,
  type FakeStats,
  type SessionSize,
} from './common.js';
import { SELF_GROUP, renderProfileSummary, summarizeProfile, type ProfileSummary } from './summarize-profile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench/out');
const JS = path.join(OUT, 'js/bench');
const PROFILES = path.join(OUT, 'profiles');
const RESULTS_MD = path.join(ROOT, 'bench/RESULTS.md');
// A quick smoke run checks the harness; its numbers are not for comparison, so it never
// replaces the report of a real run.
const QUICK_RESULTS_MD = path.join(ROOT, 'bench/out/RESULTS-quick.md');
const INSTRUCTIONS_MD = path.join(ROOT, 'bench/INSTRUCTIONS.md');
/** Cores: the app under test alone on one, the fake and this driver on the other. */
const APP_CORE = 1;
const HARNESS_CORE = 0;
const REQUEST_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  rounds: number;
  signIns: number;
  concurrency: number;
  warmup: number;
  contenders: Contender[];
  profile: Contender[];
  profileSignIns: number;
  /** Count the app's instructions under callgrind instead of timing rounds. */
  instructions: boolean;
  /** Profile this contender only, no measured rounds. */
  cpuProfOnly: Contender | undefined;
  pin: boolean;
  build: boolean;
  check: boolean;
  quick: boolean;
}

const USAGE = `Usage: npm run bench -- [options]

  --quick               smoke run: 2 rounds x 150 sign-ins, warm-up 100, profile 300 sign-ins
  --rounds N            measured rounds per contender (default 5)
  --signins N           sign-ins per round per contender (default 1000)
  --concurrency N       sign-ins in flight (default 32)
  --warmup N            untimed sign-ins per contender first (default: signins, at least 200)
  --contenders a,b      subset of ${CONTENDERS.join(', ')}
  --profile a,b         contenders to CPU-profile after the rounds (default signin,${BASELINE})
  --no-profile          skip profiling
  --profile-signins N   sign-ins in the profiled window (default: max(signins, 1000))
  --cpu-prof <name>     only profile this contender (no measured rounds); writes bench/out/profile-<name>.md
  --instructions        count each app's user-space instructions per sign-in under valgrind's
                        callgrind (steady whatever the machine's speed; slow): writes
                        bench/INSTRUCTIONS.md
  --no-pin              do not pin processes to cores with taskset
  --no-build            reuse bench/out/js from the last run
  --check               exit 3 when a target is missed
`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      signins: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      contenders: { type: 'string' },
      profile: { type: 'string' },
      'no-profile': { type: 'boolean' },
      'profile-signins': { type: 'string' },
      'cpu-prof': { type: 'string' },
      instructions: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      'no-build': { type: 'boolean' },
      check: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;
  const int = (value: string | undefined, fallback: number, name: string, min = 1): number => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min) throw new TypeError(`--${name} must be an integer >= ${min}`);
    return Number(value);
  };
  const list = (value: string, name: string): Contender[] => {
    const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const n of names) if (!isContender(n)) throw new TypeError(`--${name}: unknown contender "${n}" (${CONTENDERS.join(', ')})`);
    return names as Contender[];
  };
  const signIns = int(values.signins, quick ? 150 : 1000, 'signins');
  const cpuProf = values['cpu-prof'];
  if (cpuProf !== undefined && !isContender(cpuProf)) throw new TypeError(`--cpu-prof: unknown contender "${cpuProf}"`);
  const contenders = values.contenders !== undefined ? list(values.contenders, 'contenders') : [...CONTENDERS];
  if (contenders.length === 0) throw new TypeError('--contenders is empty');
  const profile =
    values['no-profile'] === true || values.profile === 'none'
      ? []
      : values.profile !== undefined
        ? list(values.profile, 'profile')
        : (['signin', 'signin-oauth2', BASELINE] as Contender[]).filter((c) => contenders.includes(c));
  return {
    rounds: int(values.rounds, quick ? 2 : 5, 'rounds'),
    signIns,
    concurrency: int(values.concurrency, 32, 'concurrency'),
    warmup: int(values.warmup, quick ? 100 : Math.max(signIns, 200), 'warmup', 0),
    contenders,
    profile: cpuProf !== undefined ? [cpuProf] : profile,
    profileSignIns: int(values['profile-signins'], quick ? 300 : Math.max(signIns, 1000), 'profile-signins'),
    cpuProfOnly: cpuProf,
    instructions: values.instructions === true,
    pin: values['no-pin'] !== true,
    build: values['no-build'] !== true,
    check: values.check === true,
    quick,
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked, and stopped however the driver ends.

const children = new Set<ChildProcess>();

interface Child<T> {
  process: ChildProcess;
  ready: T;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string>;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * Starts `node [nodeArgs] <script> [args]`, pinned to `core` with taskset when pinning, and
 * waits for its first stdout line (JSON). Its stdin stays a pipe from us: when we die, it exits.
 */
async function startChild<T>(
  label: string,
  script: string,
  args: string[],
  core: number,
  opts: Options,
  nodeArgs: string[] = [],
  wrapper: string[] = [],
  readyTimeoutMs = READY_TIMEOUT_MS,
): Promise<Child<T>> {
  // [taskset -c core] [wrapper…] node [nodeArgs] script [args]
  const full = [...wrapper, process.execPath, ...nodeArgs, script, ...args];
  const command = opts.pin ? 'taskset' : full[0]!;
  const child = spawn(command, opts.pin ? ['-c', String(core), ...full] : full.slice(1), {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') process.stderr.write(`[${label}] ${line}\n`);
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${label} could not be started: ${err.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code}) before it was ready`));
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${label} printed "${line}" instead of its ready line`));
      }
    });
  });
  lines.on('line', (line) => process.stderr.write(`[${label}] ${line}\n`));
  // A child that dies while we measure fails the run.
  void exited.then((code) => {
    if (stopping.has(child)) return;
    deadChildren.push(`${label} exited unexpectedly (${code})`);
    fatal(new Error(`${label} exited unexpectedly (${code})`));
  });
  return { process: child, ready, exited };
}

const stopping = new Set<ChildProcess>();
/** Children that exited while still needed, for error messages. */
const deadChildren: string[] = [];

/** SIGTERM (the child exits through process.exit, writing any profile), then SIGKILL after 5 s. */
async function stopChild(child: Child<unknown>): Promise<void> {
  stopping.add(child.process);
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(timer);
}

async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map((child) => {
      stopping.add(child);
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      return exited.finally(() => clearTimeout(timer));
    }),
  );
}

let fatalError: ((err: Error) => void) | undefined;
/** Fails the run from anywhere (a child died): rejects the pending load, see `main`. */
function fatal(err: Error): void {
  if (fatalError) fatalError(err);
  else {
    console.error(err);
    process.exitCode = 1;
  }
}

// Last resort for exits that skip `finally`: no child may outlive the driver.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping children`);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

// ---------------------------------------------------------------------------------------------
// A browser: HTTP GETs with keep-alive, no redirects followed, one cookie.

interface Reply {
  status: number;
  location: string | undefined;
  setCookie: string[] | undefined;
  body: string;
}

class SignInError extends Error {
  override name = 'SignInError';
}

/** Sockets this driver opened to the fake: the fake counts them among its connections too. */
let driverSocketsToFake = 0;
const seenSockets = new WeakSet<Socket>();

/**
 * A GET, retried once, as browsers do, when a kept-alive connection turns out to have been
 * closed by the server (the race at its keep-alive timeout): nothing reached the server.
 */
async function get(agent: http.Agent, url: string, cookie?: string, countSockets = false): Promise<Reply> {
  try {
    return await getOnce(agent, url, cookie, countSockets);
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket !== true) throw err;
    return getOnce(agent, url, cookie, countSockets);
  }
}

function getOnce(agent: http.Agent, url: string, cookie?: string, countSockets = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = http.get(url, { agent, headers: cookie ? { cookie } : {} }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const setCookie = res.headers['set-cookie'];
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          setCookie,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    if (countSockets) {
      req.on('socket', (socket) => {
        if (!seenSockets.has(socket)) {
          seenSockets.add(socket);
          driverSocketsToFake++;
        }
      });
    }
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms: GET ${url}`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Only a reset before any answer, on a connection used before, is worth a retry.
      if (req.reusedSocket && err.code === 'ECONNRESET' && !responded) Object.assign(err, { reusedSocket: true });
      reject(err);
    });
  });
}

async function getJSON<T>(agent: http.Agent, url: string, cookie?: string): Promise<T> {
  const reply = await get(agent, url, cookie);
  if (reply.status !== 200) throw new Error(`GET ${url}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
  return JSON.parse(reply.body) as T;
}

function sessionCookie(setCookie: string[] | undefined): string | undefined {
  const header = setCookie?.find((c) => c.startsWith('connect.sid='));
  return header?.split(';')[0];
}

function describe(step: string, reply: Reply): SignInError {
  return new SignInError(
    `sign-in failed at ${step}: HTTP ${reply.status}${reply.location ? ` → ${reply.location}` : ''}: ${reply.body.slice(0, 300)}`,
  );
}

interface Agents {
  app: http.Agent;
  fake: http.Agent;
  stats: http.Agent;
}

/**
 * One complete sign-in as a fresh browser: start (302 to Twitter, session cookie set),
 * Twitter's authenticate (302 straight back), callback with the cookie (200 and the success body).
 * `afterStart` runs between the start and Twitter, with the session cookie.
 */
async function signIn(appURL: string, fakeURL: string, agents: Agents, afterStart?: (cookie: string) => Promise<void>): Promise<void> {
  const start = await get(agents.app, `${appURL}/auth/twitter`);
  if (start.status !== 302 || !(start.location?.startsWith(`${fakeURL}/oauth/authenticate?`) || start.location?.startsWith(`${fakeURL}/i/oauth2/authorize?`))) {
    throw describe('start', start);
  }
  const cookie = sessionCookie(start.setCookie);
  if (cookie === undefined) throw describe('start (no session cookie)', start);
  await afterStart?.(cookie);
  const twitter = await get(agents.fake, start.location, undefined, true);
  if (twitter.status !== 302 || !twitter.location?.startsWith(`${appURL}/auth/twitter/callback?`)) {
    throw describe('Twitter authenticate', twitter);
  }
  const done = await get(agents.app, twitter.location, cookie);
  if (done.status !== 200 || done.body !== SUCCESS_BODY) throw describe('callback', done);
}

/** Failed sign-ins per contender, in every phase: a result to report, not a harness failure. */
interface Failures {
  count: number;
  byPhase: Record<string, number>;
  /** The first few, with what the app answered. */
  samples: string[];
}
const failures = new Map<Contender, Failures>();
/** Sign-ins attempted per contender, in every phase. */
const attempts = new Map<Contender, number>();
const countAttempt = (contender: Contender): void => void attempts.set(contender, (attempts.get(contender) ?? 0) + 1);

function recordFailure(contender: Contender, phase: string, err: unknown): void {
  let entry = failures.get(contender);
  if (entry === undefined) failures.set(contender, (entry = { count: 0, byPhase: {}, samples: [] }));
  entry.count++;
  entry.byPhase[phase] = (entry.byPhase[phase] ?? 0) + 1;
  if (entry.samples.length < 5) entry.samples.push(`${phase}: ${err instanceof Error ? err.message : String(err)}`);
}

/** More failures than this in one load is a broken setup, not a measurement: the run stops. */
function failureLimit(n: number): number {
  return Math.max(10, Math.ceil(0.02 * n));
}

interface Load {
  wallMs: number;
  /** Milliseconds of each completed sign-in. */
  latencies: number[];
  failed: number;
}

/**
 * `n` sign-ins, `concurrency` at a time. A failed sign-in is recorded for the report and the
 * load goes on; beyond {@link failureLimit} failures, or if a child dies, it throws.
 */
async function runLoad(appURL: string, fakeURL: string, agents: Agents, n: number, concurrency: number, contender: Contender, phase: string): Promise<Load> {
  let issued = 0;
  let failed = 0;
  let fatalFailure: unknown;
  const latencies: number[] = [];
  const limit = failureLimit(n);
  const worker = async (): Promise<void> => {
    while (issued < n && fatalFailure === undefined) {
      issued++;
      countAttempt(contender);
      const t = performance.now();
      try {
        await signIn(appURL, fakeURL, agents);
      } catch (err) {
        if (!(err instanceof SignInError)) {
          // Not an answer from the app (connection refused, timeout): the setup is broken.
          fatalFailure ??= err;
          return;
        }
        failed++;
        recordFailure(contender, phase, err);
        if (failed > limit) fatalFailure ??= new SignInError(`${failed} of ${issued} sign-ins failed; the last: ${err.message}`);
        continue;
      }
      latencies.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  const fatalP = new Promise<never>((_, reject) => {
    fatalError = reject;
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker)), fatalP]);
  } finally {
    fatalError = undefined;
  }
  if (fatalFailure !== undefined) {
    const message = fatalFailure instanceof Error ? fatalFailure.message : String(fatalFailure);
    throw new Error(`${contender} at ${appURL}: ${message}`, { cause: fatalFailure });
  }
  return { wallMs: performance.now() - t0, latencies, failed };
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Round {
  round: number;
  contender: Contender;
  position: number;
  /** Completed sign-ins. */
  signIns: number;
  /** Failed sign-ins (not in the other figures). */
  failed: number;
  wallMs: number;
  signInsPerSec: number;
  cpuMsPerSignIn: number;
  /** App CPU / wall time: 1.0 means the app's core was saturated. */
  appBusy: number;
  /** Fake + driver CPU / wall time, on their shared core. */
  harnessBusy: number;
  /** Share of the app's core used by other processes during the round (/proc/stat busy − app CPU). */
  otherOnAppCore: number;
  peakRssBytes: number;
  callsPerSignIn: number;
  calls: { requestToken: number; accessToken: number; usersMe: number; verifyCredentials: number; oauth2Token: number };
  connectionsPerSignIn: number;
  p50Ms: number;
  p99Ms: number;
  sessionBytes: number;
  sessionStrategyBytes: number;
  sessionKey: string | null;
}

/** Busy and total clock ticks of one core from /proc/stat; undefined off Linux. */
function coreTicks(core: number): { busy: number; total: number } | undefined {
  try {
    const name = `cpu${core}`;
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`${name} `));
    if (line === undefined) return undefined;
    // user nice system idle iowait irq softirq steal ...
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busy: total - ticks[3]! - ticks[4]!, total };
  } catch {
    return undefined;
  }
}

/**
 * Untimed sign-ins before each round: enough for the app's keep-alive pool to grow back to what
 * the load keeps in flight (fewer than `concurrency` calls overlap when the load ramps up).
 */
function rewarmSignIns(opts: Options): number {
  return Math.max(100, opts.concurrency * 4);
}

/** The most new connections to Twitter per sign-in that still counts as reusing them. */
const MAX_CONNECTIONS_PER_SIGN_IN = 0.01;

function cpuUs(stats: { cpuUser: number; cpuSystem: number }): number {
  return stats.cpuUser + stats.cpuSystem;
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Harness {
  fake: Child<FakeReady>;
  agents: Agents;
  opts: Options;
}

async function measureRound(h: Harness, app: Child<AppReady>, round: number, position: number): Promise<Round> {
  const { agents, opts } = h;
  const appURL = app.ready.url;
  // Untimed: the fake closes keep-alive connections idle for 5 s (node's default), which they
  // are while the other contenders run; reopen them so the round sees the steady state.
  const contender = app.ready.contender;
  await runLoad(appURL, h.fake.ready.url, agents, rewarmSignIns(opts), opts.concurrency, contender, 're-warm');
  const fake0 = await getJSON<FakeStats>(agents.stats, h.fake.ready.statsURL);
  const app0 = await getJSON<AppStats>(agents.stats, `${appURL}/__bench?reset=1`);
  const sockets0 = driverSocketsToFake;
  const driver0 = process.cpuUsage();
  const core0 = opts.pin ? coreTicks(APP_CORE) : undefined;
  const load = await runLoad(appURL, h.fake.ready.url, agents, opts.signIns, opts.concurrency, contender, 'round');
  const core1 = opts.pin ? coreTicks(APP_CORE) : undefined;
  const driver1 = process.cpuUsage(driver0);
  const app1 = await getJSON<AppStats>(agents.stats, `${appURL}/__bench`);
  const fake1 = await getJSON<FakeStats>(agents.stats, h.fake.ready.statsURL);
  const sockets = driverSocketsToFake - sockets0;

  // Untimed: the size of a session holding one pending sign-in (then finish that sign-in).
  let session: SessionSize = { bytes: NaN, strategyBytes: NaN, key: null };
  for (let attempt = 1; attempt <= 3 && Number.isNaN(session.bytes); attempt++) {
    countAttempt(contender);
    try {
      await signIn(appURL, h.fake.ready.url, agents, async (cookie) => {
        session = await getJSON<SessionSize>(agents.stats, `${appURL}/__bench/session`, cookie);
      });
    } catch (err) {
      if (!(err instanceof SignInError) || attempt === 3) throw err;
      recordFailure(contender, 'session probe', err);
    }
  }

  // Per completed sign-in: a failed one is counted apart (see failures).
  const n = opts.signIns - load.failed;
  const wallUs = load.wallMs * 1000;
  const calls = {
    requestToken: fake1.requestToken - fake0.requestToken,
    accessToken: fake1.accessToken - fake0.accessToken,
    usersMe: fake1.usersMe - fake0.usersMe,
    verifyCredentials: fake1.verifyCredentials - fake0.verifyCredentials,
    oauth2Token: fake1.oauth2Token - fake0.oauth2Token,
  };
  const appCpu = cpuUs(app1) - cpuUs(app0);
  return {
    round,
    contender,
    position,
    signIns: n,
    failed: load.failed,
    wallMs: load.wallMs,
    signInsPerSec: n / (load.wallMs / 1000),
    cpuMsPerSignIn: appCpu / 1000 / n,
    appBusy: appCpu / wallUs,
    harnessBusy: (cpuUs(fake1) - cpuUs(fake0) + driver1.user + driver1.system) / wallUs,
    otherOnAppCore:
      core0 && core1 && core1.total > core0.total
        ? Math.max(0, (core1.busy - core0.busy) / (core1.total - core0.total) - appCpu / wallUs)
        : NaN,
    peakRssBytes: app1.peakRss,
    callsPerSignIn: (calls.requestToken + calls.accessToken + calls.usersMe + calls.verifyCredentials + calls.oauth2Token) / n,
    calls,
    connectionsPerSignIn: (fake1.connections - fake0.connections - sockets) / n,
    p50Ms: quantile(load.latencies, 0.5),
    p99Ms: quantile(load.latencies, 0.99),
    sessionBytes: session.bytes,
    sessionStrategyBytes: session.strategyBytes,
    sessionKey: session.key,
  };
}

interface Summary {
  contender: Contender;
  signInsPerSec: number;
  cpuMsPerSignIn: number;
  peakRssBytes: number;
  sessionBytes: number;
  sessionStrategyBytes: number;
  sessionKey: string | null;
  callsPerSignIn: number;
  connectionsPerSignIn: number;
  p50Ms: number;
  p99Ms: number;
  appBusy: number;
  harnessBusy: number;
  otherOnAppCore: number;
  /** Failed sign-ins in every phase (warm-ups, rounds, profiling). */
  failed: number;
  /** Sign-ins attempted in every phase. */
  attempted: number;
}

function summarize(rounds: Round[], contender: Contender): Summary {
  const mine = rounds.filter((r) => r.contender === contender);
  const m = (pick: (r: Round) => number): number => median(mine.map(pick));
  return {
    contender,
    failed: failures.get(contender)?.count ?? 0,
    attempted: attempts.get(contender) ?? 0,
    signInsPerSec: m((r) => r.signInsPerSec),
    cpuMsPerSignIn: m((r) => r.cpuMsPerSignIn),
    peakRssBytes: m((r) => r.peakRssBytes),
    sessionBytes: m((r) => r.sessionBytes),
    sessionStrategyBytes: m((r) => r.sessionStrategyBytes),
    sessionKey: mine[0]?.sessionKey ?? null,
    callsPerSignIn: m((r) => r.callsPerSignIn),
    connectionsPerSignIn: m((r) => r.connectionsPerSignIn),
    p50Ms: m((r) => r.p50Ms),
    p99Ms: m((r) => r.p99Ms),
    appBusy: m((r) => r.appBusy),
    harnessBusy: m((r) => r.harnessBusy),
    otherOnAppCore: m((r) => r.otherOnAppCore),
  };
}

// ---------------------------------------------------------------------------------------------
// Profiling

interface ProfileRun {
  contender: Contender;
  summary: ProfileSummary;
}

async function profileContender(h: Harness, contender: Contender): Promise<ProfileRun> {
  const { opts, agents } = h;
  fs.mkdirSync(PROFILES, { recursive: true });
  const name = `${contender}.cpuprofile`;
  fs.rmSync(path.join(PROFILES, name), { force: true });
  log(`profiling ${contender}: warm-up ${opts.warmup}, then ${opts.profileSignIns} sign-ins under --cpu-prof`);
  const app = await startChild<AppReady>(
    `app ${contender} (cpu-prof)`,
    path.join(JS, 'app.js'),
    [contender, '0', h.fake.ready.url],
    APP_CORE,
    opts,
    ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`, `--cpu-prof-name=${name}`, '--cpu-prof-interval=250'],
  );
  try {
    if (opts.warmup > 0) await runLoad(app.ready.url, h.fake.ready.url, agents, opts.warmup, opts.concurrency, contender, 'profile warm-up');
    const before = await getJSON<AppStats>(agents.stats, `${app.ready.url}/__bench`);
    const load = await runLoad(app.ready.url, h.fake.ready.url, agents, opts.profileSignIns, opts.concurrency, contender, 'profile');
    const after = await getJSON<AppStats>(agents.stats, `${app.ready.url}/__bench`);
    await stopChild(app);
    const file = path.join(PROFILES, name);
    if (!fs.existsSync(file)) throw new Error(`--cpu-prof wrote no ${file}`);
    const summary = summarizeProfile(file, { from: before.hrtimeUs, to: after.hrtimeUs, signIns: opts.profileSignIns - load.failed, root: ROOT });
    if (!summary.windowed) log(`warning: the profile's clock does not cover the measured window; summarising the whole profile`);
    return { contender, summary };
  } finally {
    await stopChild(app);
  }
}

// ---------------------------------------------------------------------------------------------
// Instruction counts: valgrind's callgrind counts the user-space instructions the app executes,
// a figure that does not drift with the machine's speed (kernel time, such as a TCP handshake,
// is not counted, which favours contenders that make more connections).

interface InstructionCount {
  contender: Contender;
  round: number;
  signIns: number;
  instructions: number;
  perSignIn: number;
}

async function countInstructions(h: Harness, contender: Contender): Promise<Omit<InstructionCount, 'round'>> {
  const { opts, agents } = h;
  fs.mkdirSync(OUT, { recursive: true });
  const outFile = path.join(OUT, `callgrind-${contender}.out`);
  fs.rmSync(outFile, { force: true });
  const app = await startChild<AppReady>(
    `app ${contender} (callgrind)`,
    path.join(JS, 'app.js'),
    [contender, '0', h.fake.ready.url],
    APP_CORE,
    opts,
    [],
    // V8 writes machine code at run time: valgrind must watch all non-file memory for it.
    ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`, '-q'],
    180_000,
  );
  try {
    const pid = String(app.process.pid);
    const control = (...args: string[]) => {
      const r = spawnSync('callgrind_control', [...args, pid], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
    };
    if (opts.warmup > 0) await runLoad(app.ready.url, h.fake.ready.url, agents, opts.warmup, opts.concurrency, contender, 'callgrind warm-up');
    control('-z');
    control('-i', 'on');
    const load = await runLoad(app.ready.url, h.fake.ready.url, agents, opts.signIns, opts.concurrency, contender, 'callgrind');
    control('-i', 'off');
    control('-d');
    const signIns = opts.signIns - load.failed;
    const dumps = fs.readdirSync(OUT).filter((n) => n.startsWith(`callgrind-${contender}.out`));
    let instructions = 0;
    for (const name of dumps) {
      const text = fs.readFileSync(path.join(OUT, name), 'utf8');
      const total = /^totals:\s+(\d+)/m.exec(text);
      if (total) instructions += Number(total[1]);
    }
    if (instructions === 0) throw new Error(`callgrind wrote no instruction total for ${contender}`);
    for (const name of dumps) fs.rmSync(path.join(OUT, name), { force: true });
    return { contender, signIns, instructions, perSignIn: instructions / signIns };
  } finally {
    await stopChild(app);
  }
}

function renderInstructions(m: Machine, opts: Options, counts: InstructionCount[], argv: string[]): string {
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const per = new Map(opts.contenders.map((c) => [c, median(counts.filter((x) => x.contender === c).map((x) => x.perSignIn))]));
  const base = per.get(BASELINE);
  const lines = [
    '# Instructions per sign-in: passport-twitter-signin vs passport-twitter',
    '',
    `Generated by \`npm run bench -- ${argv.join(' ')}\` (bench/run.ts) on ${m.date}, Node ${m.node}, ${m.cpuModel}, code ${m.commit}.`,
    '',
    `Each app ran under valgrind's callgrind with counting off through ${opts.warmup} warm-up sign-ins, then counted the user-space`,
    `instructions of ${opts.signIns} complete sign-ins (start, Twitter's authenticate, callback; ${opts.concurrency} in flight), ${opts.rounds} time(s) per contender in`,
    'alternating order. Instruction counts do not drift with the machine\'s speed the way CPU seconds do; they leave out kernel',
    'time (system calls, TCP handshakes), which favours the contenders that open a connection per call to Twitter.',
    '',
    '| contender | instructions per sign-in (median) | ratio to passport-twitter (skip) |',
    '| --- | ---: | ---: |',
    ...opts.contenders.map((c) => `| \`${c}\` | ${f(per.get(c)! / 1e6, 3)} M | ${base ? `${f(per.get(c)! / base, 2)}x` : '–'} |`),
    '',
    '| round | contender | sign-ins | instructions | per sign-in |',
    '| ---: | --- | ---: | ---: | ---: |',
    ...counts.map((c) => `| ${c.round} | \`${c.contender}\` | ${c.signIns} | ${c.instructions} | ${f(c.perSignIn / 1e6, 3)} M |`),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Report

interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  node: string;
  kernel: string;
  loadStart: number[];
  loadEnd: number[];
  commit: string;
  pinned: boolean;
}

function machineInfo(pinned: boolean): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':').slice(1).join(':').trim();
  } catch {
    // Not Linux: os.cpus() it is.
  }
  const nproc = spawnSync('nproc', { encoding: 'utf8' });
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  // Read-only: GIT_OPTIONAL_LOCKS=0 stops git status from refreshing the index.
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'lib'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
  });
  return {
    date: new Date().toISOString(),
    nproc: nproc.status === 0 ? Number(nproc.stdout.trim()) : os.availableParallelism(),
    cpuModel,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    loadStart: os.loadavg(),
    loadEnd: [],
    commit:
      (git.status === 0 ? git.stdout.trim() : 'unknown') +
      (dirty.status === 0 ? (dirty.stdout.trim() ? ', lib/ has uncommitted changes' : ', lib/ clean') : '') +
      `, lib/ sources sha256 ${libHash()}`,
    pinned,
  };
}

/** A short hash of every file under lib/, to tell which code a report measured. */
function libHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else hash.update(path.relative(ROOT, full)).update(fs.readFileSync(full));
    }
  };
  walk(path.join(ROOT, 'lib'));
  return hash.digest('hex').slice(0, 12);
}

const f = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const mib = (bytes: number): string => f(bytes / 1024 / 1024, 1);
const ratio = (value: number, base: number): string => (Number.isFinite(value / base) && base > 0 ? `${(value / base).toFixed(2)}x` : '–');

/** Median over rounds of `pick(contender) / pick(baseline)` within the same round. */
function pairedRatio(rounds: Round[], contender: Contender, pick: (r: Round) => number): string {
  const ratios: number[] = [];
  for (const r of rounds) {
    if (r.contender !== contender) continue;
    const b = rounds.find((x) => x.round === r.round && x.contender === BASELINE);
    if (b && pick(b) > 0) ratios.push(pick(r) / pick(b));
  }
  const m = median(ratios);
  return Number.isFinite(m) ? `${m.toFixed(2)}x` : '–';
}

interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean;
}

function targets(summaries: Summary[], rounds: Round[]): Target[] {
  const ours = summaries.find((s) => s.contender === 'signin');
  const base = summaries.find((s) => s.contender === BASELINE);
  if (!ours) return [];
  const list: Target[] = [];
  if (base) {
    const cpu = ours.cpuMsPerSignIn / base.cpuMsPerSignIn;
    const tput = ours.signInsPerSec / base.signInsPerSec;
    list.push({
      name: 'App CPU per sign-in vs passport-twitter (skip)',
      goal: '≤ 0.80x',
      measured: `${cpu.toFixed(2)}x (per-round pairs: ${pairedRatio(rounds, 'signin', (r) => r.cpuMsPerSignIn)})`,
      pass: cpu <= 0.8,
    });
    list.push({
      name: 'Throughput vs passport-twitter (skip)',
      goal: '≥ 1.25x',
      measured: `${tput.toFixed(2)}x (per-round pairs: ${pairedRatio(rounds, 'signin', (r) => r.signInsPerSec)})`,
      pass: tput >= 1.25,
    });
    list.push({
      name: 'Session bytes with one pending sign-in',
      goal: `≤ passport-twitter's + 64 (≤ ${base.sessionBytes + 64} B)`,
      measured: `${ours.sessionBytes} B (${ours.sessionBytes - base.sessionBytes >= 0 ? '+' : ''}${ours.sessionBytes - base.sessionBytes} B)`,
      pass: ours.sessionBytes <= base.sessionBytes + 64,
    });
  }
  list.push({ name: 'Failed sign-ins (every phase)', goal: '0', measured: `${ours.failed} of ${ours.attempted}`, pass: ours.failed === 0 });
  list.push({ name: 'Calls to Twitter per sign-in', goal: '2', measured: f(ours.callsPerSignIn, 2), pass: Math.abs(ours.callsPerSignIn - 2) < 0.005 });
  // Each round starts on a warm pool (see rewarmSignIns), so every call should reuse a connection.
  list.push({
    name: 'New TCP connections to Twitter per sign-in (keep-alive reuse)',
    goal: `≈ 0 (≤ ${MAX_CONNECTIONS_PER_SIGN_IN})`,
    measured: f(ours.connectionsPerSignIn, 3),
    pass: ours.connectionsPerSignIn <= MAX_CONNECTIONS_PER_SIGN_IN,
  });
  return list;
}

function renderReport(m: Machine, opts: Options, rounds: Round[], summaries: Summary[], profiles: ProfileRun[], argv: string[]): string {
  const base = summaries.find((s) => s.contender === BASELINE);
  const lines: string[] = [];
  const push = (...l: string[]): void => void lines.push(...l);
  push(
    '# Benchmark: passport-twitter-signin vs passport-twitter',
    '',
    `Generated by \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\` (bench/run.ts)${opts.quick ? ' — **quick smoke run, not for comparison**' : ''}.`,
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| date | ${m.date} |`,
    `| nproc | ${m.nproc} |`,
    `| CPU | ${m.cpuModel} |`,
    `| node | ${m.node} |`,
    `| OS | ${m.kernel} |`,
    `| load average (1/5/15 min) at start | ${m.loadStart.map((l) => l.toFixed(2)).join(' / ')} |`,
    `| load average at end | ${m.loadEnd.map((l) => l.toFixed(2)).join(' / ')} |`,
    `| code | ${m.commit} (the working tree, as built into bench/out/js at the start) |`,
    `| pinning | ${m.pinned ? `app on core ${APP_CORE}; fake Twitter + driver on core ${HARNESS_CORE} (taskset)` : 'none (--no-pin)'} |`,
    '',
    `Load: ${opts.rounds} rounds × ${opts.signIns} complete sign-ins per contender, ${opts.concurrency} in flight, after ${opts.warmup} warm-up sign-ins each; ` +
      `the contenders' order rotates every round, and each round starts with ${rewarmSignIns(opts)} untimed sign-ins to re-open keep-alive connections the fake closed while the others ran. Each sign-in is a fresh browser: start → Twitter's authenticate (auto-approved, 302 back) → callback with the session cookie → 200. ` +
      'Express 5, express-session with MemoryStore, passport 0.7, one process per contender running compiled JS (no loader). Figures are medians over rounds.',
    '',
    '## Results',
    '',
    '| contender | sign-ins/s | app CPU ms / sign-in | peak RSS MiB | session bytes (1 pending) | calls to Twitter / sign-in | new TCP conns to Twitter / sign-in | p50 ms | p99 ms | failed sign-ins | app core busy | fake+driver core busy |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const s of summaries) {
    push(
      `| \`${s.contender}\` | ${f(s.signInsPerSec, 0)} | ${f(s.cpuMsPerSignIn, 3)} | ${mib(s.peakRssBytes)} | ${f(s.sessionBytes, 0)} | ${f(s.callsPerSignIn, 2)} | ${f(s.connectionsPerSignIn, 3)} | ${f(s.p50Ms, 1)} | ${f(s.p99Ms, 1)} | ${s.failed} of ${s.attempted} | ${f(100 * s.appBusy, 0)}% | ${f(100 * s.harnessBusy, 0)}% |`,
    );
  }
  push('', ...summaries.map((s) => `- \`${s.contender}\`: ${DESCRIPTIONS[s.contender]}.`));
  push(
    '',
    'Session bytes are the JSON the session store holds right after the start step (cookie metadata included); the strategy\'s own part: ' +
      summaries.map((s) => `\`${s.contender}\` ${f(s.sessionStrategyBytes, 0)} B under \`${s.sessionKey ?? '?'}\``).join(', ') +
      '. New TCP connections are the fake\'s accepted connections minus the driver\'s own. ' +
      'Failed sign-ins count every phase (warm-ups, untimed re-warms, rounds, profiling); the other figures are per completed sign-in.',
  );
  const failing = summaries.filter((s) => s.failed > 0);
  if (failing.length) {
    push('', '### Failed sign-ins', '');
    for (const s of failing) {
      const entry = failures.get(s.contender)!;
      const phases = Object.entries(entry.byPhase).map(([phase, count]) => `${count} in ${phase}`).join(', ');
      push(`- \`${s.contender}\`: ${s.failed} (${phases}). First ones:`, ...entry.samples.map((x) => `  - ${x}`));
    }
  }
  if (base) {
    push(
      '',
      `## Ratios to \`${BASELINE}\``,
      '',
      'Ratios of the medians, and in brackets the median of the per-round ratios (each contender against the baseline in the same round, minutes apart at most: steadier when the machine\'s speed drifts).',
      '',
      '| contender | throughput | app CPU / sign-in | peak RSS | session bytes | calls to Twitter |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const s of summaries) {
      const d = s.sessionBytes - base.sessionBytes;
      push(
        `| \`${s.contender}\` | ${ratio(s.signInsPerSec, base.signInsPerSec)} (${pairedRatio(rounds, s.contender, (r) => r.signInsPerSec)}) | ${ratio(s.cpuMsPerSignIn, base.cpuMsPerSignIn)} (${pairedRatio(rounds, s.contender, (r) => r.cpuMsPerSignIn)}) | ${ratio(s.peakRssBytes, base.peakRssBytes)} | ${d >= 0 ? '+' : ''}${f(d, 0)} B | ${f(s.callsPerSignIn, 2)} vs ${f(base.callsPerSignIn, 2)} |`,
      );
    }
  }
  const t = targets(summaries, rounds);
  if (t.length) {
    push('', '## Targets (this package)', '', '| target | goal | measured | |', '| --- | --- | --- | --- |');
    for (const x of t) push(`| ${x.name} | ${x.goal} | ${x.measured} | ${x.pass ? '✅ met' : '❌ missed'} |`);
  }
  const warnings: string[] = [];
  const maxHarness = Math.max(...rounds.map((r) => r.harnessBusy));
  if (maxHarness > 0.9) {
    warnings.push(
      `The fake+driver core reached ${f(100 * maxHarness, 0)}% busy in some round: throughput may be capped by the harness, not the app. App CPU per sign-in is unaffected; trust it over sign-ins/s.`,
    );
  }
  for (const s of summaries) {
    // Idle time on the app's core: the app waited for the fake or the driver.
    if (s.appBusy + (Number.isFinite(s.otherOnAppCore) ? s.otherOnAppCore : 0) < 0.85) {
      warnings.push(
        `\`${s.contender}\`'s app core was only ${f(100 * s.appBusy, 0)}% busy (others ${f(100 * s.otherOnAppCore, 0)}%): the app waited on the fake or the driver, so its sign-ins/s understate what it could do.`,
      );
    }
  }
  const maxOther = Math.max(...rounds.map((r) => r.otherOnAppCore));
  if (maxOther > 0.05) {
    warnings.push(
      `Other processes used up to ${f(100 * maxOther, 0)}% of the app's core during a round (see "others on app core" per round): the machine was not quiet, and the numbers are noisy.`,
    );
  }
  if ((m.loadStart[0] ?? 0) > 0.5) {
    warnings.push(`The 1-minute load average was already ${m.loadStart[0]?.toFixed(2)} when the run started (other work, or a previous run).`);
  }
  if (warnings.length) push('', '## Caveats', '', ...warnings.map((w) => `- ${w}`));

  push(
    '',
    '## Per round',
    '',
    '| round | contender | order | sign-ins/s | app CPU ms / sign-in | app busy | others on app core | fake+driver busy | peak RSS MiB | calls / sign-in | new conns / sign-in | p50 ms | p99 ms | failed | session B |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rounds) {
    push(
      `| ${r.round} | \`${r.contender}\` | ${r.position + 1} | ${f(r.signInsPerSec, 0)} | ${f(r.cpuMsPerSignIn, 3)} | ${f(100 * r.appBusy, 0)}% | ${f(100 * r.otherOnAppCore, 0)}% | ${f(100 * r.harnessBusy, 0)}% | ${mib(r.peakRssBytes)} | ${f(r.callsPerSignIn, 2)} | ${f(r.connectionsPerSignIn, 3)} | ${f(r.p50Ms, 1)} | ${f(r.p99Ms, 1)} | ${r.failed} | ${f(r.sessionBytes, 0)} |`,
    );
  }
  if (profiles.length) push('', renderProfiles(profiles, opts));
  push(
    '',
    '## Method notes',
    '',
    `- The apps run \`bench/out/js/bench/app.js\`, compiled by \`tsc -p bench/tsconfig.build.json\` from \`lib/\` and \`bench/app.ts\` with the package's compiler options, emitted as ESM (\`dist/\` holds the same code as CommonJS), in a private copy that a concurrent \`npm run build\` (which empties \`dist/\`) cannot pull from under a run.`,
    '- App CPU is `process.cpuUsage()` (user + system) of the app process over the round, divided by the sign-ins; it includes Express, express-session, passport, node\'s HTTP server for the browsers\' requests, and each contender\'s calls to Twitter (node\'s `http` client for passport-twitter, undici for `signin` and `signin-oauth2`). Peak RSS is sampled every 50 ms during the round.',
    '- Calls to Twitter come from the fake\'s per-endpoint counters; `passport-twitter` (defaults) also calls `GET /1.1/account/verify_credentials.json`, pointed at the fake with `userProfileURL`.',
    '- Profiles: `node --cpu-prof --cpu-prof-interval=250` on a fresh app process, cut to the measured window with the app\'s `process.hrtime` (the profile\'s clock), summarised by `bench/summarize-profile.ts`. Each sample counts as the median sampling interval, so time the app spent preempted by other processes is not charged to the function it was in. Profiling slows the app; use the profile for shares, the rounds for absolute cost.',
  );
  return `${lines.join('\n')}\n`;
}

function renderProfiles(profiles: ProfileRun[], opts: Options): string {
  const out: string[] = ['## Where the CPU goes (CPU profiles)', ''];
  const ours = profiles.find((p) => p.contender === 'signin');
  const base = profiles.find((p) => p.contender === BASELINE);
  if (ours && base && ours.summary.signIns && base.summary.signIns) {
    const groups = new Set([...ours.summary.chargedByGroup, ...base.summary.chargedByGroup].map((g) => g.group));
    const per = (p: ProfileRun, group: string): number =>
      (p.summary.chargedByGroup.find((g) => g.group === group)?.us ?? 0) / p.summary.signIns!;
    const rows = [...groups].sort((a, b) => per(ours, b) + per(base, b) - per(ours, a) - per(base, a));
    out.push(
      `Side by side, profiled CPU charged to the nearest package on the stack, in µs per sign-in (${opts.profileSignIns} sign-ins each; profiler overhead included):`,
      '',
      `| group | \`signin\` | \`${BASELINE}\` | difference |`,
      '| --- | ---: | ---: | ---: |',
      ...rows.map((g) => {
        const a = per(ours, g);
        const b = per(base, g);
        return `| ${g} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)} |`;
      }),
      `| **total** | **${(ours.summary.activeUs / ours.summary.signIns).toFixed(1)}** | **${(base.summary.activeUs / base.summary.signIns).toFixed(1)}** | |`,
      '',
      'Express, express-session, passport and node\'s HTTP plumbing are the same code in both apps; the `oauth` (node-oauth) package is used by both strategies, ' +
        `so its time is part of each strategy's cost. \`${SELF_GROUP}\` is this package's own code.`,
      '',
    );
  }
  for (const p of profiles) out.push(renderProfileSummary(p.summary, `\`${p.contender}\``, 3, p.contender === 'signin' ? 12 : 8));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

function requirePinning(opts: Options): void {
  if (!opts.pin) return;
  const which = spawnSync('taskset', ['-V'], { encoding: 'utf8' });
  if (which.error || which.status !== 0) {
    throw new Error('taskset (util-linux) is not available: install util-linux, or run with --no-pin');
  }
  const cores = os.availableParallelism();
  if (cores < 2) throw new Error(`Pinning needs 2 cores and this machine has ${cores}: run with --no-pin`);
  // -a: every thread of this process (libuv's pool, V8's helpers), not just the main one.
  const pin = spawnSync('taskset', ['-a', '-cp', String(HARNESS_CORE), String(process.pid)], { encoding: 'utf8' });
  if (pin.status !== 0) throw new Error(`taskset could not pin the driver to core ${HARNESS_CORE}: ${pin.stderr.trim()}`);
}

function build(): void {
  fs.rmSync(path.join(OUT, 'js'), { recursive: true, force: true });
  log('compiling lib/ and bench/ to bench/out/js (tsc -p bench/tsconfig.build.json)');
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error(`tsc failed (${tsc.status ?? tsc.signal})`);
}

/** Runs `fn`; a failure names what was running, and says so if a child process had died. */
async function withContext<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // Let a dying child's exit event arrive, so the message can name it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const message = err instanceof Error ? err.message : String(err);
    const died = deadChildren.filter((d) => d !== message);
    throw new Error(`${what} failed${died.length ? ` (${died.join('; ')})` : ''}: ${message}`, { cause: err });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseOptions(argv);
  // Before pinning: nproc counts the cores this process may use.
  const machine = machineInfo(opts.pin);
  requirePinning(opts);
  if (opts.build) build();
  if (!fs.existsSync(path.join(JS, 'app.js'))) throw new Error('bench/out/js is missing: run without --no-build');

  const agents: Agents = {
    app: new http.Agent({ keepAlive: true, maxSockets: opts.concurrency }),
    fake: new http.Agent({ keepAlive: true, maxSockets: opts.concurrency }),
    stats: new http.Agent({ keepAlive: false }),
  };
  try {
    const fake = await startChild<FakeReady>('fake', path.join(JS, 'fake.js'), [], HARNESS_CORE, opts);
    const h: Harness = { fake, agents, opts };
    log(`fake Twitter at ${fake.ready.url}`);

    if (opts.cpuProfOnly !== undefined) {
      const run = await profileContender(h, opts.cpuProfOnly);
      const md = renderProfileSummary(run.summary, `CPU profile: \`${run.contender}\``, 2, 15);
      const file = path.join(OUT, `profile-${run.contender}.md`);
      fs.writeFileSync(file, md);
      process.stdout.write(md);
      log(`wrote ${path.relative(ROOT, file)} and ${path.relative(ROOT, run.summary.file)}`);
      return;
    }

    if (opts.instructions) {
      const counts: InstructionCount[] = [];
      for (let round = 1; round <= opts.rounds; round++) {
        const order = opts.contenders.map((_, i) => opts.contenders[(i + round - 1) % opts.contenders.length]!);
        for (const contender of order) {
          const count = await withContext(`instructions of ${contender}`, () => countInstructions(h, contender));
          counts.push({ ...count, round });
          log(`instructions round ${round}/${opts.rounds} ${contender.padEnd(21)} ${f(count.perSignIn / 1e6, 3)} M instructions/sign-in`);
        }
      }
      await stopChild(fake);
      const md = renderInstructions(machine, opts, counts, argv);
      fs.writeFileSync(INSTRUCTIONS_MD, md);
      process.stdout.write(md);
      log(`wrote ${path.relative(ROOT, INSTRUCTIONS_MD)}`);
      return;
    }

    const apps = new Map<Contender, Child<AppReady>>();
    for (const contender of opts.contenders) {
      const app = await startChild<AppReady>(`app ${contender}`, path.join(JS, 'app.js'), [contender, '0', fake.ready.url], APP_CORE, opts);
      apps.set(contender, app);
      log(`${contender} at ${app.ready.url}`);
    }
    for (const contender of opts.contenders) {
      if (opts.warmup === 0) break;
      log(`warm-up ${contender}: ${opts.warmup} sign-ins`);
      await withContext(`warm-up of ${contender}`, () =>
        runLoad(apps.get(contender)!.ready.url, fake.ready.url, agents, opts.warmup, opts.concurrency, contender, 'warm-up'),
      );
    }

    const rounds: Round[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const order = opts.contenders.map((_, i) => opts.contenders[(i + round - 1) % opts.contenders.length]!);
      for (const [position, contender] of order.entries()) {
        const r = await withContext(`round ${round}, ${contender}`, () => measureRound(h, apps.get(contender)!, round, position));
        rounds.push(r);
        log(
          `round ${round}/${opts.rounds} ${contender.padEnd(21)} ${f(r.signInsPerSec, 0).padStart(5)} sign-ins/s  ` +
            `${f(r.cpuMsPerSignIn, 3)} CPU ms/sign-in  app ${f(100 * r.appBusy, 0)}% busy  others ${f(100 * r.otherOnAppCore, 0)}%  harness ${f(100 * r.harnessBusy, 0)}%  ` +
            `${f(r.callsPerSignIn, 2)} calls  ${f(r.connectionsPerSignIn, 3)} conns  ${r.sessionBytes} B session` +
            (r.failed ? `  ${r.failed} FAILED` : ''),
        );
      }
    }
    for (const app of apps.values()) await stopChild(app);

    const profiles: ProfileRun[] = [];
    for (const contender of opts.profile) profiles.push(await withContext(`profile of ${contender}`, () => profileContender(h, contender)));
    await stopChild(fake);

    machine.loadEnd = os.loadavg();
    const summaries = opts.contenders.map((c) => summarize(rounds, c));
    const report = renderReport(machine, opts, rounds, summaries, profiles, argv);
    fs.mkdirSync(OUT, { recursive: true });
    const resultsMD = opts.quick ? QUICK_RESULTS_MD : RESULTS_MD;
    fs.writeFileSync(resultsMD, report);
    fs.writeFileSync(
      path.join(OUT, 'results.json'),
      JSON.stringify({ machine, options: opts, rounds, summaries, failures: Object.fromEntries(failures), profiles: profiles.map((p) => ({ contender: p.contender, ...p.summary })) }, null, 2),
    );
    process.stdout.write(report);
    log(`wrote ${path.relative(ROOT, resultsMD)} and bench/out/results.json`);
    if (opts.check && targets(summaries, rounds).some((t) => !t.pass)) {
      log('--check: a target was missed');
      process.exitCode = 3;
    }
  } finally {
    agents.app.destroy();
    agents.fake.destroy();
    agents.stats.destroy();
    await stopAll();
  }
}

main()
  .catch((err: unknown) => {
    // A usage error needs its message, not a stack.
    const usage = err instanceof TypeError;
    console.error(`[bench] FAILED: ${err instanceof Error ? (usage ? err.message : (err.stack ?? err.message)) : String(err)}`);
    if (usage) console.error('[bench] see npm run bench -- --help');
    process.exitCode = 1;
  })
  // Every child is stopped by now; do not wait for stray handles (stdout and stderr are synchronous).
  .finally(() => process.exit());
