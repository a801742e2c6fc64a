/**
 * The benchmark's smoke run (`npm run bench:quick`) checks the harness; its numbers are not for
 * comparison, so it must never replace the committed report of a real run, bench/RESULTS.md.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('npm run bench:quick', function () {
  this.timeout(120_000);

  it('writes its report to bench/out/RESULTS-quick.md and leaves bench/RESULTS.md as it is', async () => {
    const committed = readFileSync(`${ROOT}bench/RESULTS.md`, 'utf8');
    const started = Date.now();
    // bench:quick's own command, smaller still: one round of 20 sign-ins, no profile, no pinning.
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--rounds', '1', '--signins', '20', '--warmup', '0', '--no-profile', '--no-pin', '--contenders', 'signin,signin-oauth2'],
      { cwd: ROOT, timeout: 100_000 },
    );
    expect(readFileSync(`${ROOT}bench/RESULTS.md`, 'utf8')).to.equal(committed);
    expect(statSync(`${ROOT}bench/out/RESULTS-quick.md`).mtimeMs).to.be.at.least(started - 1000);
    expect(readFileSync(`${ROOT}bench/out/RESULTS-quick.md`, 'utf8')).to.include('quick smoke run, not for comparison');
  });
});
