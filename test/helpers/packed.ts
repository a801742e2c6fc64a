/**
 * The package as `npm publish` would ship it: the built package packed once per test process
 * and installed, by extracting the tarball, into a scratch node_modules beside consumer projects.
 * Consumers so see the files list, the exports map and the built declarations, never lib/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..', '..');

export interface Packed {
  /** The .tgz that `npm pack` made. */
  tarball: string;
  /** A scratch folder; its node_modules holds the extracted package and the repo's dependencies. */
  dir: string;
  /** The extracted package: node_modules/passport-twitter-signin. */
  packageDir: string;
}

let packed: Packed | undefined;

/** Packs dist/ as it is (run `npm run build` first; `npm test` does). */
export function packedPackage(): Packed {
  if (packed) return packed;
  const dir = mkdtempSync(join(tmpdir(), 'pts-packed-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  // --ignore-scripts: `prepare` would build again, emptying dist/ under a concurrent test.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const tarball = join(dir, (JSON.parse(out) as [{ filename: string }])[0].filename);
  const nodeModules = join(dir, 'node_modules');
  mkdirSync(nodeModules);
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  const packageDir = join(nodeModules, 'passport-twitter-signin');
  renameSync(join(dir, 'package'), packageDir);
  // The dependencies, as an install would put them beside the package: linked from the repo's.
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name.startsWith('.') || name === 'passport-twitter-signin') continue;
    symlinkSync(join(root, 'node_modules', name), join(nodeModules, name), 'dir');
  }
  packed = { tarball, dir, packageDir };
  return packed;
}
