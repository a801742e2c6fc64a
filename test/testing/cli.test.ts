import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { main } from '../../lib/testing/cli.js';

const FIXTURE = new URL('../fixtures/fake-twitter-cli.ts', import.meta.url).pathname;

interface Run {
  child: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  /** Resolves once the output contains `text`. */
  waitFor(text: string): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(text) {
      while (!output.includes(text)) {
        const woken = new Promise<void>((resolve) => waiters.push(resolve));
        const status = await Promise.race([woken.then(() => 'data'), exited.then(() => 'exit')]);
        if (status === 'exit' && !output.includes(text)) throw new Error(`exited before printing ${text}:\n${output}`);
      }
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('cli', function () {
  // Each test starts a Node process with the TypeScript loader.
  this.timeout(20_000);
  const runs: Run[] = [];
  afterEach(() => {
    for (const { child } of runs.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('starts on the given port, prints the URLs and the credentials to use, and stops on SIGTERM', async () => {
    const port = await freePort();
    const cli = run(['--port', String(port)]);
    runs.push(cli);
    await cli.waitFor('Press Ctrl+C');
    const url = `http://127.0.0.1:${port}`;
    expect(cli.output()).to.include(`${url}/oauth/request_token`);
    expect(cli.output()).to.include(`${url}/oauth/authenticate`);
    expect(cli.output()).to.include(`${url}/oauth/access_token`);
    expect(cli.output()).to.match(/Consumer key:\s+fake-consumer-key/);
    expect(cli.output()).to.match(/Consumer secret:\s+fake-consumer-secret/);
    expect((await fetch(`${url}/nowhere`)).status).to.equal(404);

    cli.child.kill('SIGTERM');
    expect(await cli.exited).to.equal(0);
    expect(cli.output()).to.include('Fake Twitter stopped.');
  });

  it('uses the given consumer key, secret and callbacks, and stops on SIGINT', async () => {
    const port = await freePort();
    const cli = run([
      '--port', String(port),
      '--consumer-key', 'my-key',
      '--consumer-secret', 'my-secret',
      '--callback', 'http://localhost:3000/a',
      '--callback', 'http://localhost:3000/b',
    ]);
    runs.push(cli);
    await cli.waitFor('Press Ctrl+C');
    expect(cli.output()).to.match(/Consumer key:\s+my-key/);
    expect(cli.output()).to.match(/Consumer secret:\s+my-secret/);
    expect(cli.output()).to.include('http://localhost:3000/a, http://localhost:3000/b');
    cli.child.kill('SIGINT');
    expect(await cli.exited).to.equal(0);
  });

  it('prints usage for --help and exits', async () => {
    const cli = run(['--help']);
    runs.push(cli);
    expect(await cli.exited).to.equal(0);
    expect(cli.output()).to.include('Usage: passport-twitter-signin-fake');
    expect(cli.output()).to.include('--callback URL');
  });

  it('rejects a port that is not a number', async () => {
    let error: unknown;
    try {
      await main(['--port', '80a']);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.include('--port');
  });

  it('rejects an unknown option', async () => {
    let error: unknown;
    try {
      await main(['--consumer-keys', 'x']);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.include('--consumer-keys');
  });
});
