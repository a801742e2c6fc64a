/**
 * Reproduces the keep-alive race the benchmark ran into: a call to Twitter sent on a pooled
 * connection at the moment the server closes it as idle fails with ECONNRESET
 * (`ERR_TWITTER_NETWORK`), and so does the user's sign-in. Node's http client does not retry
 * it; its docs suggest retrying when `req.reusedSocket` is true.
 *
 * Runs the fake Twitter in its own process (the race needs two event loops), measures after how
 * long it closes an idle connection, then, for idle gaps around that time, makes 32 calls,
 * waits the gap, and makes 32 more on the same pooled connections. Exits 1 if any call failed.
 *
 * Usage: node --import tsx bench/keepalive-race.ts   (about two minutes)
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TwitterOAuthClient } from '../lib/index.js';
import { CONSUMER_KEY, CONSUMER_SECRET, type FakeReady } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fake = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fake.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
const CALLS = 32;
const SPREAD_MS = 8;

try {
  const ready = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: fake.stdout! }).once('line', resolve))) as FakeReady;

  // How long the server keeps an idle connection (node: keepAliveTimeout plus a grace period).
  const agent = new http.Agent({ keepAlive: true });
  const idleCloseMs = await new Promise<number>((resolve, reject) => {
    http
      .get(`${ready.url}/idle-probe`, { agent }, (res) => {
        const socket = res.socket as Socket;
        res.resume();
        res.on('end', () => {
          const t = performance.now();
          socket.once('close', () => resolve(performance.now() - t));
        });
      })
      .on('error', reject);
  });
  agent.destroy();
  const center = Math.round(idleCloseMs);
  console.log(`The fake closes an idle connection after ${center} ms; trying idle gaps of ${center - SPREAD_MS}–${center + SPREAD_MS} ms.`);

  const client = new TwitterOAuthClient({
    consumerKey: CONSUMER_KEY,
    consumerSecret: CONSUMER_SECRET,
    requestTokenURL: `${ready.url}/oauth/request_token`,
    accessTokenURL: `${ready.url}/oauth/access_token`,
    userAuthorizationURL: `${ready.url}/oauth/authenticate`,
  });
  const call = () => client.getRequestToken({ callbackURL: 'http://127.0.0.1/auth/twitter/callback' });
  let failed = 0;
  let tried = 0;
  for (let gap = center - SPREAD_MS; gap <= center + SPREAD_MS; gap++) {
    await Promise.all(Array.from({ length: CALLS }, call));
    await new Promise((resolve) => setTimeout(resolve, gap));
    const results = await Promise.allSettled(Array.from({ length: CALLS }, call));
    tried += CALLS;
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error & { code?: string }] : []));
    failed += errors.length;
    if (errors.length) console.log(`  idle ${gap} ms: ${errors.length} of ${CALLS} failed: ${errors[0]!.code}: ${errors[0]!.message}`);
  }
  console.log(`${failed} of ${tried} calls after an idle gap failed.`);
  process.exitCode = failed > 0 ? 1 : 0;
} finally {
  fake.kill();
}
