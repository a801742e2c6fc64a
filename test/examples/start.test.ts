/**
 * `npm start` (examples/start.ts) and the Redis example as a user runs them: the app with both
 * sign-ins on an embedded fake Twitter, and, when the port is taken, a message and exit status 1
 * instead of "open http://…" while another server answers there.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { requireBinary } from '../helpers/services.js';
import { startRedisServer, type RedisServer } from '../scale/redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs an example until `until` appears on stdout (then SIGTERM) or it exits by itself. */
function runExample(file: string, env: Record<string, string>, until?: RegExp, whileRunning?: (out: string) => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env: { ...process.env, ...env, TWITTER_CONSUMER_KEY: '', TWITTER_CONSUMER_SECRET: '', X_CLIENT_ID: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let acting = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (until && !acting && until.test(stdout)) {
        acting = true;
        void (whileRunning?.(stdout) ?? Promise.resolve()).then(
          () => child.kill('SIGTERM'),
          (err: unknown) => {
            child.kill('SIGKILL');
            reject(err);
          },
        );
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((r) => server.listen(0, r));
  return { port: (server.address() as AddressInfo).port, server };
}

async function freePort(): Promise<number> {
  const { port, server } = await occupiedPort();
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('npm start (examples/start.ts)', function () {
  this.timeout(30_000);

  it('serves the example with both sign-ins on an embedded fake Twitter, at the URL it prints, and stops on SIGTERM', async () => {
    const port = await freePort();
    const run = await runExample('examples/start.ts', { PORT: String(port) }, /Callback URLs:/, async () => {
      const home = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(home).to.include('id="sign-in"');
      expect(home).to.include('id="sign-in-x"');
      const oauth1 = await fetch(`http://127.0.0.1:${port}/auth/twitter`, { redirect: 'manual' });
      expect(oauth1.headers.get('location')).to.match(/\/oauth\/authenticate\?oauth_token=/);
      const oauth2 = await fetch(`http://127.0.0.1:${port}/auth/x`, { redirect: 'manual' });
      expect(oauth2.headers.get('location')).to.match(/\/i\/oauth2\/authorize\?response_type=code&/);
    });
    expect(run.stdout).to.include(`Example app: open http://127.0.0.1:${port}`);
    expect(run.stdout).to.include('any username and password will do');
    expect(run.code).to.equal(0);
  });

  it('exits 1 with a message naming the port and how to pick another when the port is taken', async () => {
    const { port, server } = await occupiedPort();
    try {
      const run = await runExample('examples/start.ts', { PORT: String(port) });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include(`Port ${port} is already in use`);
      expect(run.stderr).to.include(`PORT=${port + 1} npm start`);
      expect(run.stdout).not.to.include('Example app: open');
    } finally {
      server.close();
    }
  });
});

describe('the Redis example (examples/redis.ts)', function () {
  this.timeout(30_000);
  let redis: RedisServer | undefined;
  before(async function () {
    redis = await startRedisServer(requireBinary(this, 'redis-server', 'redis-server'));
  });
  after(async () => {
    await redis?.stop();
  });

  it('exits 1 with a message naming the port when an instance cannot have its port', async () => {
    const { port, server } = await occupiedPort();
    try {
      const run = await runExample('examples/redis.ts', { PORT: String(port), INSTANCES: '1', REDIS_URL: redis!.url });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include(`Port ${port} is already in use`);
      expect(run.stdout).not.to.match(/Instance A: http/);
    } finally {
      server.close();
    }
  });
});
