/**
 * The README's Usage app (examples/readme.ts), run as written: it signs in, shows why a sign-in
 * failed (the commonest mistake, a lost session cookie, included) instead of bouncing back
 * silently, and answers an X outage with a short page and the error's status, not a stack trace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function runReadmeApp(twitter: 'ok' | 'down', file = 'examples/readme.ts'): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/fixtures/readme-preload.ts', file], {
    cwd: ROOT,
    env: { ...process.env, TWITTER: twitter, TWITTER_CONSUMER_KEY: 'k', TWITTER_CONSUMER_SECRET: 's', SESSION_SECRET: 'readme-test-session-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`, child, stderr: () => stderr };
}

class Browser {
  cookie = '';
  async get(url: string): Promise<Response> {
    const res = await fetch(url, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
    const set = res.headers.getSetCookie()[0];
    if (set) this.cookie = set.split(';')[0]!;
    return res;
  }
}

describe("the README's Usage app", function () {
  this.timeout(20_000);
  let running: ChildProcess | undefined;
  afterEach(() => {
    running?.kill('SIGKILL');
    running = undefined;
  });

  it('signs a user in: start, X, callback, home says hello', async () => {
    const app = await runReadmeApp('ok');
    running = app.child;
    const browser = new Browser();
    const start = await browser.get(`${app.url}/auth/twitter`);
    expect(start.headers.get('location')).to.equal('https://api.x.com/oauth/authenticate?oauth_token=readme-token');
    const callback = await browser.get(`${app.url}/auth/twitter/callback?oauth_token=readme-token&oauth_verifier=v`);
    expect(callback.headers.get('location')).to.equal('/');
    expect(await (await browser.get(`${app.url}/`)).text()).to.equal('Hello, @readme_user');
  });

  it('signs a user in in its plain JavaScript form too (examples/readme.cjs)', async () => {
    const app = await runReadmeApp('ok', 'examples/readme.cjs');
    running = app.child;
    const browser = new Browser();
    const start = await browser.get(`${app.url}/auth/twitter`);
    expect(start.headers.get('location')).to.equal('https://api.x.com/oauth/authenticate?oauth_token=readme-token');
    const callback = await browser.get(`${app.url}/auth/twitter/callback?oauth_token=readme-token&oauth_verifier=v`);
    expect(callback.headers.get('location')).to.equal('/');
  });

  it('says on the home page why a callback failed when the session cookie did not come back, once', async () => {
    const app = await runReadmeApp('ok');
    running = app.child;
    const started = new Browser();
    await started.get(`${app.url}/auth/twitter`);
    // Another browser (or the same one on another host): no session cookie on the callback.
    const lost = new Browser();
    const callback = await lost.get(`${app.url}/auth/twitter/callback?oauth_token=readme-token&oauth_verifier=v`);
    expect(callback.headers.get('location')).to.equal('/');
    const home = await (await lost.get(`${app.url}/`)).text();
    expect(home).to.include('No sign-in with Twitter was started in this browser session');
    expect(home).to.include('the session cookie was lost');
    expect(await (await lost.get(`${app.url}/`)).text()).not.to.include('No sign-in');
  });

  it('answers an X outage with a short page and status 502, logging the code, no stack trace on the page', async () => {
    const app = await runReadmeApp('down');
    running = app.child;
    const res = await new Browser().get(`${app.url}/auth/twitter`);
    expect(res.status).to.equal(502);
    const page = await res.text();
    expect(page).to.include('Signing in did not work');
    expect(page).not.to.match(/at \w+ \(|node_modules|Error:/);
    await new Promise((r) => setTimeout(r, 100));
    expect(app.stderr()).to.include('ERR_TWITTER_HTTP');
  });
});
