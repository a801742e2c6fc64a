/**
 * scripts/check-node.cjs, the Node version guard that .ci/run applies to each Node it tests on:
 * it must read package.json's engines.node as npm does.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';

const root = resolve(import.meta.dirname, '..');

function check(version: string): { ok: boolean; stderr: string } {
  const run = spawnSync(process.execPath, [resolve(root, 'scripts/check-node.cjs'), version], { encoding: 'utf8' });
  return { ok: run.status === 0, stderr: run.stderr };
}

describe('the Node version guard', () => {
  it('is applied by .ci/run before anything else is installed or run', () => {
    const script = readFileSync(resolve(root, '.ci/run'), 'utf8');
    const guard = script.indexOf('node scripts/check-node.cjs');
    expect(guard).to.be.greaterThan(-1);
    expect(guard).to.be.lessThan(script.indexOf('apt-get'));
    expect(guard).to.be.lessThan(script.indexOf('npm ci'));
  });

  it('accepts Node ^20.19 and >=22.12, the engines range', () => {
    expect(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).engines.node).to.equal('^20.19.0 || >=22.12.0');
    for (const version of ['20.19.0', '20.20.2', '22.12.0', '22.23.5', '24.0.0', '24.22.3', '26.1.0']) {
      expect(check(version).ok, version).to.equal(true);
    }
  });

  it('refuses older 20.x, 21.x and 22.x before 22.12, naming the range', () => {
    for (const version of ['18.20.4', '20.18.3', '21.7.3', '22.0.0', '22.11.0']) {
      const { ok, stderr } = check(version);
      expect(ok, version).to.equal(false);
      expect(stderr).to.equal(`Node ${version} is not supported: the package and its tests need Node ^20.19.0 || >=22.12.0 (package.json engines).\n`);
    }
  });
});
