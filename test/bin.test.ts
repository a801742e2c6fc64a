/**
 * The published command, `bin/fake-twitter.cjs`, as npm installs it: a CommonJS script that
 * runs the built CLI from dist/. (test/testing/cli.test.ts covers the CLI's options from source.)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { OAuth } from 'oauth';

const root = resolve(import.meta.dirname, '..');
const BIN = join(root, 'bin', 'fake-twitter.cjs');
const BUILT_CLI = join(root, 'dist', 'cjs', 'testing', 'cli.js');
// The command's default credentials.
const CONSUMER_KEY = 'fake-consumer-key';
const CONSUMER_SECRET = 'fake-consumer-secret';
// Port 9 (discard): nothing is ever sent there, the fake only checks it is registered.
const CALLBACK = 'http://127.0.0.1:9/cb';

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects if the command exits first. */
  waitForStdout(pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const wakers: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wake of wakers.splice(0)) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // 'close', not 'exit': by then both pipes are drained, so the output is complete.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForStdout(pattern) {
      for (;;) {
        const match = pattern.exec(stdout);
        if (match !== null) return match;
        const woken = new Promise<'data'>((resolve) => wakers.push(() => resolve('data')));
        if ((await Promise.race([woken, exited.then(() => 'exit' as const)])) === 'exit' && !pattern.test(stdout)) {
          throw new Error(`exited before printing ${pattern}:\n${stdout}${stderr}`);
        }
      }
    },
  };
}

/** node-oauth's client, with the response status of a request-token call (it hides it on success). */
class RequestTokenClient extends OAuth {
  requestToken(): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const extra = { oauth_callback: this._authorize_callback };
      this._performSecureRequest('', '', 'POST', this._requestUrl, extra, undefined, undefined, (err, data, res) => {
        if (res === undefined) reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        else resolve({ status: res.statusCode!, body: String(data) });
      });
    });
  }
}

describe('bin/fake-twitter.cjs', function () {
  // Each test starts a Node process.
  this.timeout(20_000);
  const runs: Run[] = [];

  before(function () {
    if (!existsSync(BUILT_CLI)) {
      this.timeout(300_000);
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    }
  });

  afterEach(() => {
    for (const { child } of runs.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('serves a signed request_token on --port 0 and exits 0 on SIGTERM', async () => {
    const cli = run(['--port', '0', '--callback', CALLBACK]);
    runs.push(cli);
    const [, requestTokenURL] = await cli.waitForStdout(/requestTokenURL: '(http:\/\/127\.0\.0\.1:\d+\/oauth\/request_token)',\n/);
    expect(requestTokenURL).not.to.match(/:0\//);

    const client = new RequestTokenClient(
      requestTokenURL!,
      requestTokenURL!.replace(/request_token$/, 'access_token'),
      CONSUMER_KEY,
      CONSUMER_SECRET,
      '1.0',
      CALLBACK,
      'HMAC-SHA1',
    );
    const { status, body } = await client.requestToken();
    expect(status, body).to.equal(200);
    const answer = new URLSearchParams(body);
    expect(answer.get('oauth_callback_confirmed')).to.equal('true');
    expect(answer.get('oauth_token')).to.be.a('string').and.not.equal('');

    cli.child.kill('SIGTERM');
    expect(await cli.exited).to.equal(0);
    expect(cli.stdout()).to.include('Fake Twitter stopped.');
    expect(cli.stderr()).to.equal('');
  });

  it('exits 1 on --port abc with a one-line message naming --port, without a stack trace', async () => {
    const cli = run(['--port', 'abc']);
    runs.push(cli);
    expect(await cli.exited).to.equal(1);
    const stderr = cli.stderr();
    expect(stderr.endsWith('\n'), stderr).to.equal(true);
    expect(stderr.trimEnd().split('\n'), stderr).to.have.lengthOf(1);
    expect(stderr).to.match(/^passport-twitter-signin-fake: .*--port/);
    expect(stderr).not.to.match(/^\s+at /m);
    expect(stderr).not.to.include('Error');
    expect(cli.stdout()).to.equal('');
  });
});
