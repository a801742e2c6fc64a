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

  it("starts on the given port, prints both strategies' options ready to paste, and stops on SIGTERM", async () => {
    const port = await freePort();
    const cli = run(['--port', String(port)]);
    runs.push(cli);
    await cli.waitFor('Press Ctrl+C');
    const url = `http://127.0.0.1:${port}`;
    const [, oauth1] = /TwitterSignInStrategy \(add callbackURL\):\n(\{[\s\S]*?\n\})/.exec(cli.output()) ?? [];
    const [, oauth2] = /TwitterOAuth2Strategy \(add callbackURL\):\n(\{[\s\S]*?\n\})/.exec(cli.output()) ?? [];
    // What it prints is an object literal of the options, as named: paste it and it is one.
    const literal = (text: string | undefined) => new Function(`return (${text});`)() as Record<string, string>;
    expect(literal(oauth1)).to.deep.equal({
      consumerKey: 'fake-consumer-key',
      consumerSecret: 'fake-consumer-secret',
      requestTokenURL: `${url}/oauth/request_token`,
      accessTokenURL: `${url}/oauth/access_token`,
      userAuthorizationURL: `${url}/oauth/authenticate`,
      authorizeURL: `${url}/oauth/authorize`,
    });
    expect(literal(oauth2)).to.deep.equal({
      clientID: 'fake-client-id',
      clientSecret: 'fake-client-secret',
      authorizationURL: `${url}/i/oauth2/authorize`,
      tokenURL: `${url}/2/oauth2/token`,
      revokeURL: `${url}/2/oauth2/revoke`,
      profileURL: `${url}/2/users/me`,
    });
    expect(cli.output()).to.include('Any username and password sign in');
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
    expect(cli.output()).to.include("consumerKey: 'my-key',");
    expect(cli.output()).to.include("consumerSecret: 'my-secret',");
    expect(cli.output()).to.include('http://localhost:3000/a, http://localhost:3000/b');
    cli.child.kill('SIGINT');
    expect(await cli.exited).to.equal(0);
  });

  it('serves a public OAuth 2.0 client with --public, under the --app-name it is given', async () => {
    const port = await freePort();
    const cli = run(['--port', String(port), '--public', '--app-name', 'My App', '--callback', 'http://127.0.0.1:3000/cb']);
    runs.push(cli);
    await cli.waitFor('Press Ctrl+C');
    const [, oauth2] = /TwitterOAuth2Strategy \(add callbackURL\):\n(\{[\s\S]*?\n\})/.exec(cli.output()) ?? [];
    expect(oauth2).to.include("clientID: 'fake-client-id',");
    expect(oauth2).not.to.include('clientSecret');
    const authorize = `http://127.0.0.1:${port}/i/oauth2/authorize?response_type=code&client_id=fake-client-id&redirect_uri=${encodeURIComponent('http://127.0.0.1:3000/cb')}&scope=users.read&state=s&code_challenge=c&code_challenge_method=S256`;
    expect(await (await fetch(authorize)).text()).to.include('Authorize My App to access your account?');
    cli.child.kill('SIGTERM');
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
