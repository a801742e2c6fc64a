/**
 * CPU per call to Twitter, alone: the client's signed request_token call through lib/http.ts on
 * the global dispatcher (the default) and on an `Agent` of its own (the `dispatcher` option);
 * and, unsigned, the two ways of asking undici that lib/http.ts chose between: `dispatch()` with
 * a handler (what it uses) and `request()` with an AbortSignal for the deadline. Each sends a
 * request_token call to a loopback server that answers like Twitter.
 *
 * The server runs in a child process pinned to core 0, this process (the client) to core 1
 * (`taskset`, as `npm run bench` does), 32 calls in flight, rounds alternating the transports.
 * Writes bench/TRANSPORT.md.
 *
 * Usage: node --import tsx bench/transport.ts [--calls 40000] [--rounds 5]
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { Agent, getGlobalDispatcher, request } from 'undici';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TwitterOAuthClient } from '../lib/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BODY = 'oauth_token=NPcudxy0yU5T3tBzho7iCotZ3cnetKwcTIRlX0iwRl0&oauth_token_secret=veNRnAWe6inFuo8o2u8SLLZLjolYDmDP7SzL0YfYI&oauth_callback_confirmed=true';
const CONCURRENCY = 32;

if (process.argv[2] === '--serve') {
  // The server: answers every call like Twitter's request_token, keep-alive.
  const server = http.createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
  });
  process.stdin.on('end', () => process.exit(0)).resume();
} else {
  const { values } = parseArgs({ options: { calls: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '5' } } });
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  pin(process.pid, '1');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  pin(child.pid!, '0');
  const { port } = JSON.parse(await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r))) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const endpoints = { requestTokenURL: `${url}/oauth/request_token`, accessTokenURL: `${url}/oauth/access_token` };
  const dispatcher = new Agent();
  const global = new TwitterOAuthClient({ consumerKey: 'ck', consumerSecret: 'cs', ...endpoints });
  const own = new TwitterOAuthClient({ consumerKey: 'ck', consumerSecret: 'cs', ...endpoints, dispatcher });
  const callbackURL = 'http://127.0.0.1:3000/auth/twitter/callback';
  // The same headers a signed call sends, with a signature computed once.
  const headers = {
    Accept: '*/*',
    'Accept-Encoding': 'identity',
    'User-Agent': 'passport-twitter-signin',
    'Content-Type': 'application/x-www-form-urlencoded',
    Authorization: global.authorizationHeader({ method: 'POST', url: endpoints.requestTokenURL, params: { oauth_callback: callbackURL } }),
  };
  const contenders: Record<string, () => Promise<unknown>> = {
    "the client, undici's global dispatcher (default)": () => global.getRequestToken({ callbackURL }),
    'the client, an undici Agent of its own (dispatcher)': () => own.getRequestToken({ callbackURL }),
    'unsigned: undici dispatch() with a handler (as lib/http.ts sends)': () =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => reject(new Error('timeout')), 10_000);
        getGlobalDispatcher().dispatch(
          { origin: url, path: '/oauth/request_token', method: 'POST', headers, body: '' },
          {
            onConnect() {},
            onHeaders: () => true,
            onData: (chunk: Buffer) => (chunks.push(chunk), true),
            onComplete: () => (clearTimeout(timer), resolve(Buffer.concat(chunks).toString())),
            onError: (err: Error) => (clearTimeout(timer), reject(err)),
          } as never,
        );
      }),
    'unsigned: undici request() with an AbortSignal for the deadline': async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 10_000);
      const res = await request(endpoints.requestTokenURL, { method: 'POST', headers, body: '', signal: controller.signal });
      await res.body.text();
      clearTimeout(timer);
    },
  };
  const run = async (call: () => Promise<unknown>, n: number) => {
    let started = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (started++ < n) await call();
      }),
    );
  };
  const results = new Map<string, number[]>();
  for (const [name, client] of Object.entries(contenders)) {
    await run(client, 5000);
    results.set(name, []);
  }
  const names = Object.keys(contenders);
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      const before = process.cpuUsage();
      await run(contenders[name]!, calls);
      const used = process.cpuUsage(before);
      results.get(name)!.push((used.user + used.system) / calls);
    }
  }
  await dispatcher.close();
  child.stdin!.end();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(results.get(names[0]!)!);
  const lines = [
    '# CPU per call to Twitter',
    '',
    `Generated by \`node --import tsx bench/transport.ts --calls ${calls} --rounds ${rounds}\` on ${new Date().toISOString()}, ` +
      `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores.`,
    '',
    `\`POST /oauth/request_token\` calls (the client's signed, signing included; the others unsigned) from this process, pinned to core 1, to a loopback`,
    `server answering like Twitter, pinned to core 0; ${CONCURRENCY} in flight; ${rounds} rounds of ${calls} calls, alternating.`,
    'Client-process CPU (user + system) per call, median of rounds.',
    '',
    '| how | CPU µs per call | ratio to the first | every round (µs) |',
    '| --- | ---: | ---: | --- |',
    ...names.map((name) => {
      const xs = results.get(name)!;
      return `| ${name} | ${median(xs).toFixed(1)} | ${(median(xs) / base).toFixed(2)}x | ${xs.map((x) => x.toFixed(1)).join(', ')} |`;
    }),
    '',
  ];
  writeFileSync(path.join(here, 'TRANSPORT.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

function pin(pid: number, core: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', core, String(pid)], { stdio: 'ignore' });
  } catch {
    console.error('[bench] taskset not available: not pinned (util-linux)');
  }
}
