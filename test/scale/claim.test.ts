/**
 * A doubled callback across instances: two app processes share their sessions through a real
 * redis-server, and the same callback reaches both at the same instant, many times (a retrying
 * load balancer, a reload routed elsewhere). With the shared claim (`claimCallback` on Redis,
 * as the README shows it) Twitter sees exactly one exchange per sign-in; without it, the same
 * experiment reaches Twitter twice, which is what makes the first half worth believing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startFakeTwitter, type FakeTwitter } from '../../lib/testing/index.js';
import { requireBinary } from '../helpers/services.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

const KEYS = { consumerKey: 'claim-consumer-key', consumerSecret: 'claim-consumer-secret' };
const INSTANCE = fileURLToPath(new URL('../fixtures/claim-instance.ts', import.meta.url));

interface Instance {
  url: string;
  child: ChildProcess;
}

async function startInstance(redis: RedisServer, fake: FakeTwitter, claim: boolean): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', INSTANCE], {
    env: {
      ...process.env,
      REDIS_URL: redis.url,
      ENDPOINTS: JSON.stringify(fake.endpoints),
      CONSUMER_KEY: KEYS.consumerKey,
      CONSUMER_SECRET: KEYS.consumerSecret,
      CLAIM: claim ? '1' : '0',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the instance exited with ${code} before listening`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

function stop(instance: Instance): Promise<void> {
  return new Promise((resolve) => {
    if (instance.child.exitCode !== null) return resolve();
    instance.child.once('exit', () => resolve());
    instance.child.stdin!.end();
  });
}

/** Cookie jar over fetch, redirects not followed. */
class Browser {
  cookie = '';
  async get(url: string): Promise<Response> {
    const res = await fetch(url, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
    const set = res.headers.getSetCookie()[0];
    if (set) this.cookie = set.split(';')[0]!;
    return res;
  }
}

/**
 * `rounds` sign-ins, each started on the first instance, with its callback then delivered to
 * both instances at once. Returns the exchanges Twitter saw per round, and the answers.
 */
async function doubledCallbacks(instances: [Instance, Instance], fake: FakeTwitter, rounds: number): Promise<{ exchanges: number[]; statuses: number[][] }> {
  const exchanges: number[] = [];
  const statuses: number[][] = [];
  for (let round = 0; round < rounds; round++) {
    const browser = new Browser();
    const start = await browser.get(`${instances[0].url}/auth/twitter`);
    expect(start.status).to.equal(302);
    const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(approved.headers.get('location')!);
    const before = fake.stats().accessToken;
    const answers = await Promise.all(instances.map((i) => browser.get(`${i.url}${callback.pathname}${callback.search}`)));
    statuses.push(answers.map((a) => a.status).sort());
    exchanges.push(fake.stats().accessToken - before);
  }
  return { exchanges, statuses };
}

describe('a callback delivered to two instances at once', function () {
  this.timeout(60_000);
  let redis: RedisServer | undefined;
  let fake: FakeTwitter | undefined;
  const instances: Instance[] = [];

  before(async function () {
    redis = await startRedisServer(requireBinary(this, 'redis-server', 'redis-server'));
    fake = await startFakeTwitter({ ...KEYS, autoApprove: { id: '3001', screen_name: 'shared' } });
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map(stop));
  });
  after(async () => {
    await fake?.close();
    await redis?.stop();
  });

  it('reaches Twitter exactly once per sign-in with claimCallback on Redis, 40 times of 40', async () => {
    instances.push(await startInstance(redis!, fake!, true), await startInstance(redis!, fake!, true));
    const { exchanges, statuses } = await doubledCallbacks(instances as [Instance, Instance], fake!, 40);
    expect(exchanges).to.deep.equal(exchanges.map(() => 1));
    // One signs the user in; the other is refused cleanly (401), never an error from a second exchange.
    expect(statuses).to.deep.equal(statuses.map(() => [200, 401]));
  });

  it('reaches Twitter twice in some sign-ins without it (the race the claim closes is real)', async () => {
    instances.push(await startInstance(redis!, fake!, false), await startInstance(redis!, fake!, false));
    const { exchanges } = await doubledCallbacks(instances as [Instance, Instance], fake!, 20);
    expect(exchanges.filter((n) => n === 2).length, `exchanges per round: ${exchanges.join(' ')}`).to.be.at.least(1);
  });
});
