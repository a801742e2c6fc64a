/**
 * The PIN example (examples/pin.ts) end to end, as its user runs it: start the program, open the
 * URL it prints, sign in on the (fake) Twitter page, type the PIN the page shows into the
 * program. The "browser" is fetch with a cookie jar that submits the page's own form.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** How long the program may take to print its URL (tsx compiles it first) or to finish. */
const WAIT = 10_000;

/** The running example, its output so far, and ways to wait for more of it. */
class PinProgram {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor() {
    // No TWITTER_* variables: the example then starts its own fake Twitter.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TWITTER_')));
    this.child = spawn(process.execPath, ['--import', 'tsx', 'examples/pin.ts'], {
      cwd: REPO_ROOT,
      env: { ...env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code) => resolve(code));
    });
  }

  /** Resolves with the first match of `pattern` in stdout; rejects if the program exits or stalls first. */
  waitForStdout(pattern: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const match = this.stdout.match(pattern);
        if (match) finish(() => resolve(match));
        return match !== null;
      };
      const onExit = (): void => {
        if (!check()) finish(() => reject(new Error(`pin.ts exited before printing ${pattern}.${this.output()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`pin.ts did not print ${pattern} within ${WAIT} ms.${this.output()}`))), WAIT);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.child.stdout.off('data', check);
        this.child.off('close', onExit);
        settle();
      };
      this.child.stdout.on('data', check);
      this.child.once('close', onExit);
      check();
    });
  }

  /** The exit code, once the program has exited and its output is complete. */
  async exitCode(): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pin.ts did not exit within ${WAIT} ms.${this.output()}`)), WAIT);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  output(): string {
    return `\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }
}

/** A browser without a renderer: cookies by name, redirects not followed. */
class Browser {
  readonly #cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(WAIT) });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return res;
  }

  /**
   * Submits the page's one form as a browser would: every input with a name (hidden fields as
   * they are, the others from `values`), plus the name and value of the button pressed.
   */
  submit(pageURL: string, html: string, values: Record<string, string>, button: string): Promise<Response> {
    const form = html.match(/<form\b([^>]*)>([\s\S]*?)<\/form>/);
    expect(form, 'a form on the page').not.to.equal(null);
    const [, formAttributes, content] = form!;
    expect(attribute(formAttributes!, 'method')?.toLowerCase()).to.equal('post');
    const action = new URL(unescapeHTML(attribute(formAttributes!, 'action') ?? ''), pageURL).href;

    const body = new URLSearchParams();
    for (const [input] of content!.matchAll(/<input\b[^>]*>/g)) {
      const name = attribute(input, 'name');
      if (name === undefined) continue;
      const type = attribute(input, 'type') ?? 'text';
      if (type === 'hidden') body.append(name, unescapeHTML(attribute(input, 'value') ?? ''));
      else body.append(name, values[name] ?? unescapeHTML(attribute(input, 'value') ?? ''));
    }
    const pressed = [...content!.matchAll(/<button\b([^>]*)>/g)].map(([, attrs]) => attrs!).find((attrs) => attribute(attrs, 'id') === button);
    expect(pressed, `a #${button} button in the form`).not.to.equal(undefined);
    const buttonName = attribute(pressed!, 'name');
    if (buttonName !== undefined) body.append(buttonName, unescapeHTML(attribute(pressed!, 'value') ?? ''));

    // fetch sends a URLSearchParams body as application/x-www-form-urlencoded, as a form does.
    return this.request(action, { method: 'POST', body });
  }
}

function attribute(tag: string, name: string): string | undefined {
  return tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
}

function unescapeHTML(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');
}

describe('examples/pin.ts', function () {
  this.timeout(20_000);

  let program: PinProgram | undefined;

  afterEach(async () => {
    const child = program?.child;
    program = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('close', resolve));
    }
  });

  /**
   * Starts the program and plays its user up to the PIN: opens the printed URL, signs in as
   * `username` and allows. Returns the PIN the fake showed.
   */
  async function approveAs(username: string): Promise<string> {
    program = new PinProgram();
    const [, url] = await program.waitForStdout(/^(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?oauth_token=\S+)$/m);
    const browser = new Browser();

    const signIn = await browser.request(url!);
    expect(signIn.status).to.equal(200);
    const signInPage = await signIn.text();
    expect(signInPage).to.include('id="username"');

    const answer = await browser.submit(url!, signInPage, { username, password: 'any password' }, 'allow');
    expect(answer.status).to.equal(200);
    const pinPage = await answer.text();
    const pin = pinPage.match(/<code id="pin">([^<]*)<\/code>/)?.[1];
    expect(pin, 'the PIN on the page').to.match(/^\d{7}$/);

    // Wait for the prompt: a line typed before the program asks for it would be lost.
    await program.waitForStdout(/PIN: $/);
    return pin!;
  }

  it('signs in with the PIN the fake Twitter shows and prints who signed in', async () => {
    const pin = await approveAs('pinuser');
    program!.child.stdin.end(`${pin}\n`);

    expect(await program!.exitCode(), program!.output()).to.equal(0);
    // The typed PIN is not echoed (stdin is not a terminal), so the answer follows the prompt.
    expect(program!.stdout).to.match(/(?:^|\n|PIN: )Signed in as @pinuser \(user id \d+\)\n$/);
    expect(program!.stderr).not.to.include('Sign-in failed');
  });

  it('exits 1 with an ERR_TWITTER_HTTP line, which does not repeat the PIN, when the PIN is wrong', async () => {
    const pin = await approveAs('typo');
    const wrong = String((Number(pin) + 1) % 10_000_000).padStart(7, '0');
    program!.child.stdin.end(`${wrong}\n`);

    expect(await program!.exitCode(), program!.output()).to.equal(1);
    const failure = program!.stderr.split('\n').find((line) => line.startsWith('Sign-in failed ('));
    expect(failure, program!.output()).to.match(/^Sign-in failed \(ERR_TWITTER_HTTP\): \S/);
    expect(program!.stdout).not.to.include('Signed in as');
    for (const secret of [wrong, pin]) {
      expect(program!.stdout).not.to.include(secret);
      expect(program!.stderr).not.to.include(secret);
    }
  });

  it('exits 1, saying no PIN was entered, when its input ends at the prompt instead of hanging', async () => {
    program = new PinProgram();
    await program.waitForStdout(/PIN: $/);
    program.child.stdin.end();

    expect(await program.exitCode(), program.output()).to.equal(1);
    expect(program.stderr.trim()).to.equal('No PIN entered.');
    expect(program.stdout).not.to.include('Signed in as');
  });
});
