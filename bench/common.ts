/**
 * What the benchmark's processes agree on: the contenders, the Twitter app's keys, and the
 * shapes of the JSON the app and the fake report to the driver.
 */
import type { FakeTwitterStats } from '../lib/testing/index.js';

/** The apps compared, as named on the command line and in the report. */
export const CONTENDERS = ['signin', 'signin-oauth2', 'passport-twitter-skip', 'passport-twitter'] as const;
export type Contender = (typeof CONTENDERS)[number];

/** What each contender is, for the report. */
export const DESCRIPTIONS: Record<Contender, string> = {
  signin: 'this package (`TwitterSignInStrategy`, default options)',
  'signin-oauth2': 'this package over OAuth 2.0 (`TwitterOAuth2Strategy`, a confidential client: code exchange and `GET /2/users/me`)',
  'passport-twitter-skip': 'passport-twitter 1.0.4, `skipExtendedUserProfile: true` (the same work)',
  'passport-twitter': 'passport-twitter 1.0.4, defaults (adds a `verify_credentials` call)',
};

/** The contender the ratios are taken against: passport-twitter doing the same work as ours. */
export const BASELINE: Contender = 'passport-twitter-skip';

export function isContender(value: string): value is Contender {
  return (CONTENDERS as readonly string[]).includes(value);
}

// Twitter's documented example keys: real lengths matter, because this package's default
// session key contains the consumer key.
// @see https://developer.twitter.com/en/docs/authentication/oauth-1-0a/creating-a-signature
export const CONSUMER_KEY = 'xvz1evFS4wEEPTGEFPHBog';
export const CONSUMER_SECRET = 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw';

/** The OAuth 2.0 client (a confidential one, as a web app is). */
export const CLIENT_ID = 'VGhpcyBpcyBhIGJlbmNoIGNsaWVudA';
export const CLIENT_SECRET = 'bench-client-secret-0f8e3c6a5b2d4e1f9a7c';

/** The user the fake approves every sign-in as. */
export const BENCH_USER = { id: '783214', screen_name: 'bench_user' };

/** The body of a successful callback, so the driver can tell success from any other 200. */
export const SUCCESS_BODY = 'signed in';

/** The first line each child prints on stdout once it listens. */
export interface FakeReady {
  /** The fake Twitter's origin, `http://127.0.0.1:PORT`. */
  url: string;
  /** `GET` here for {@link FakeStats}. */
  statsURL: string;
}

export interface AppReady {
  /** The app's origin, `http://127.0.0.1:PORT`. */
  url: string;
  contender: Contender;
}

/**
 * `GET <statsURL>`: the fake's call counters (its `connections` count the apps' and the driver's
 * alike), plus its own CPU so the driver can see core 0's load.
 */
export interface FakeStats extends FakeTwitterStats {
  /** `process.cpuUsage()` of the fake, microseconds. */
  cpuUser: number;
  cpuSystem: number;
}

/** `GET /__bench` on an app. */
export interface AppStats {
  /** `process.cpuUsage()`, microseconds. */
  cpuUser: number;
  cpuSystem: number;
  /** Current RSS, bytes. */
  rss: number;
  /** Highest RSS sampled (every 50 ms) since the last `?reset=1`, bytes. */
  peakRss: number;
  /** getrusage's lifetime maximum RSS, bytes. */
  maxRss: number;
  heapUsed: number;
  /** `process.hrtime` in microseconds: the clock of `--cpu-prof` timestamps, to cut a profile to a window. */
  hrtimeUs: number;
  /** Sessions held by the MemoryStore. */
  sessions: number;
}

/** `GET /__bench/session` with a session cookie: what the MemoryStore holds for that session. */
export interface SessionSize {
  /** Bytes of the session's JSON as stored (what Redis or any other store would hold). */
  bytes: number;
  /** Bytes of the strategy's own part, `"<key>":<value>`. */
  strategyBytes: number;
  /** The session property the strategy wrote. */
  key: string | null;
}

/**
 * For a child process: exit on SIGINT/SIGTERM, and when the driver's end of stdin closes, so a
 * driver that dies (even by SIGKILL) never leaves a child behind. Exiting through
 * `process.exit` also lets `--cpu-prof` write its profile.
 */
export function exitWithParent(close: () => Promise<void> | void = () => {}): void {
  let exiting = false;
  const exit = (): void => {
    if (exiting) return;
    exiting = true;
    const timer = setTimeout(() => process.exit(0), 2000);
    timer.unref();
    Promise.resolve()
      .then(close)
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', exit);
  process.once('SIGTERM', exit);
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
}
