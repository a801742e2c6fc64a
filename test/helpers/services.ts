/**
 * Tests that need a system service (Redis, Chromium) start it themselves. When its binary is
 * missing they skip with a message naming the Debian package, except under CI=true, where a
 * missing service is a failure: CI installs them (.ci/run), so absence there is a bug.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of `command` on PATH (or `command` itself when absolute and present). */
export function findBinary(command: string): string | undefined {
  if (command.startsWith('/')) return existsSync(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Call in a mocha `before` hook (with `this`). Returns the binary's path, or skips the suite
 * (outside CI) or throws (under CI=true) when it is missing.
 */
export function requireBinary(ctx: Mocha.Context, command: string, debianPackage: string): string {
  const found = findBinary(command);
  if (found) return found;
  const message = `${command} not found: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it.`);
  console.log(`      skipped: ${message}`);
  ctx.skip();
}

/**
 * What Debian's Chromium needs to start headless in a container, and no background traffic of
 * its own while the tests run (this machine's network is closed: its lookups would fail).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
