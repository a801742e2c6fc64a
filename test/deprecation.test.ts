/**
 * No deprecation warning reaches an app: a whole sign-in (request token, access token, a profile
 * lookup) runs under `node --throw-deprecation`, with the package installed in node_modules as
 * npm would install it, and bundled into one file, as bundled apps ship. Both matter: Node
 * leaves some deprecations (url.parse()'s DEP0169 from Node 24) unsaid for code it finds under
 * node_modules in the stack, and a bundle has no node_modules. .ci/run runs this on each Node
 * version it tests.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { build } from 'esbuild';
import { packedPackage, root } from './helpers/packed.js';

function runApp(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--throw-deprecation', file], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const SIGNED_IN = `${JSON.stringify({ user: { id: '42', username: 'alice' } })}\n`;

describe(`deprecations, on Node ${process.versions.node}`, function () {
  this.timeout(60_000);
  let app: string;

  before(() => {
    // The app beside the packed package's node_modules, so it loads the package from there.
    const dir = join(packedPackage().dir, 'deprecation-app');
    mkdirSync(dir, { recursive: true });
    app = join(dir, 'sign-in-app.mjs');
    copyFileSync(join(root, 'test', 'fixtures', 'sign-in-app.mjs'), app);
  });

  it('reach no app that signs a user in with the package from node_modules (node --throw-deprecation)', async () => {
    const { code, stdout, stderr } = await runApp(app);
    expect(stderr).to.equal('');
    expect(stdout).to.equal(SIGNED_IN);
    expect(code).to.equal(0);
  });

  it('reach no app bundled into one file with its dependencies (esbuild, node --throw-deprecation)', async () => {
    const bundle = join(app, '..', 'bundle.cjs');
    await build({ entryPoints: [app], outfile: bundle, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' });
    const { code, stdout, stderr } = await runApp(bundle);
    expect(stderr).to.equal('');
    expect(stdout).to.equal(SIGNED_IN);
    expect(code).to.equal(0);
  });
});
