/**
 * Moving from passport-twitter as the README says: passport-twitter's own README usage, run as
 * it is and again with the README's migration diff applied, against the same fake Twitter. The
 * migrated app must sign in, and its verify must see the profile passport-twitter gave.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Express } from 'express';
import { startFakeTwitter, type FakeTwitter } from '../lib/testing/index.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/migration/passport-twitter-readme.cjs', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const KEYS = { key: 'migration-consumer-key', secret: 'migration-consumer-secret' };
const ADA = { id: '4242', screen_name: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' };

/** The README's migration diff: the ```diff block under "Moving from passport-twitter". */
function migrationDiff(): string {
  const readme = readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('## Moving from passport-twitter'));
  const block = /```diff\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('no diff block under "Moving from passport-twitter"');
  return block;
}

/**
 * Applies a unified diff's hunks (separated by `@@` lines) to `source`: each hunk's context and
 * `-` lines must appear in it exactly, once, and become the context and `+` lines.
 */
function applyDiff(source: string, diff: string): string {
  let out = source;
  for (const hunk of diff.split(/^@@.*\n/m).filter((h) => h.trim() !== '')) {
    const lines = hunk.replace(/\n$/, '').split('\n');
    const before = lines.filter((l) => !l.startsWith('+')).map((l) => l.slice(1)).join('\n');
    const after = lines.filter((l) => !l.startsWith('-')).map((l) => l.slice(1)).join('\n');
    const at = out.indexOf(before);
    if (at === -1 || out.indexOf(before, at + 1) !== -1) throw new Error(`the hunk does not apply once:\n${before}`);
    out = out.slice(0, at) + after + out.slice(at + before.length);
  }
  return out;
}

type CreateApp = (key: string, secret: string, endpointsFor: (strategy: unknown) => object, seen: unknown[]) => Express;

/** Loads the app's CommonJS source as if it were the fixture file (its requires resolve from there). */
function load(source: string): CreateApp {
  const require = createRequire(FIXTURE);
  const module = { exports: {} as unknown };
  new Function('require', 'module', 'exports', source)(require, module, module.exports);
  return module.exports as CreateApp;
}

async function signIn(createApp: CreateApp, fake: FakeTwitter): Promise<{ seen: { photo: string; name: string; profile: unknown }[]; status: number }> {
  const passportTwitter = createRequire(FIXTURE)('passport-twitter') as { Strategy: unknown };
  const endpointsFor = (strategy: unknown) =>
    strategy === passportTwitter.Strategy
      ? { ...fake.endpoints, userProfileURL: `${fake.url}/1.1/account/verify_credentials.json` }
      : fake.endpoints;
  const seen: { photo: string; name: string; profile: unknown }[] = [];
  const app = createApp(KEYS.key, KEYS.secret, endpointsFor, seen);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const start = await fetch(`${url}/auth/twitter`, { redirect: 'manual' });
    const cookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    // The README's callback URL is on port 3000; this app listens elsewhere on the same host.
    const callback = new URL(approved.headers.get('location')!);
    const done = await fetch(`${url}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie } });
    return { seen, status: done.status };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe("moving from passport-twitter with the README's diff", () => {
  let fake: FakeTwitter;
  beforeEach(async () => {
    fake = await startFakeTwitter({
      consumerKey: KEYS.key,
      consumerSecret: KEYS.secret,
      users: [{ ...ADA, password: 'pw' }],
      autoApprove: { id: ADA.id, screen_name: ADA.screen_name },
    });
  });
  afterEach(() => fake.close());

  it("applies to passport-twitter's README usage and signs in, with the profile passport-twitter gave, key for key", async () => {
    const source = readFileSync(FIXTURE, 'utf8');
    const migrated = applyDiff(source, migrationDiff());
    expect(migrated).to.include("require('passport-twitter-signin')");
    expect(migrated).not.to.include("require('passport-twitter')");

    const before = await signIn(load(source), fake);
    const after = await signIn(load(migrated), fake);
    expect(before.status, 'passport-twitter signs in').to.equal(302);
    expect(after.status, 'the migrated app signs in').to.equal(302);
    expect(after.seen[0]!.photo).to.equal(before.seen[0]!.photo);
    expect(after.seen[0]!.name).to.equal('Ada Lovelace');
    // As an app stores it (JSON): the same keys and values.
    expect(JSON.parse(JSON.stringify(after.seen[0]!.profile))).to.deep.equal(JSON.parse(JSON.stringify(before.seen[0]!.profile)));
  });

  it('fails at profile.photos[0] with the import switched alone, which is why the diff has more', async () => {
    const source = readFileSync(FIXTURE, 'utf8').replace("require('passport-twitter')", "require('passport-twitter-signin')");
    const result = await signIn(load(source), fake);
    // verify throws a TypeError (no photos without a profile lookup): Express answers 500.
    expect(result.status).to.equal(500);
    expect(result.seen).to.deep.equal([]);
  });
});
