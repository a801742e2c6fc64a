/**
 * The benchmark's Twitter: this package's fake provider with `autoApprove`, so
 * `/oauth/authenticate` and `/i/oauth2/authorize` send the browser straight back to the app's callback.
 *
 * Prints one JSON line ({@link FakeReady}) once it listens, then serves `GET /stats` on a
 * second port ({@link FakeStats}): calls per endpoint, TCP connections accepted by the fake,
 * and the fake's own CPU time. Exits when its stdin closes or on SIGINT/SIGTERM.
 *
 * Usage: node bench/out/js/bench/fake.js
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeTwitter } from '../lib/testing/index.js';
import { BENCH_USER, CLIENT_ID, CLIENT_SECRET, CONSUMER_KEY, CONSUMER_SECRET, exitWithParent, type FakeReady, type FakeStats } from './common.js';

const fake = await startFakeTwitter({
  consumerKey: CONSUMER_KEY,
  consumerSecret: CONSUMER_SECRET,
  clientID: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  autoApprove: BENCH_USER,
});

// A separate server, so reading the stats never counts as a connection to "Twitter".
const statsServer = createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/stats') {
    res.writeHead(404).end();
    return;
  }
  const cpu = process.cpuUsage();
  const stats: FakeStats = { ...fake.stats(), cpuUser: cpu.user, cpuSystem: cpu.system };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
});
await new Promise<void>((resolve) => statsServer.listen(0, '127.0.0.1', resolve));
const { port } = statsServer.address() as AddressInfo;

exitWithParent(async () => {
  statsServer.closeAllConnections();
  statsServer.close();
  await fake.close();
});

const ready: FakeReady = { url: fake.url, statsURL: `http://127.0.0.1:${port}/stats` };
process.stdout.write(`${JSON.stringify(ready)}\n`);
