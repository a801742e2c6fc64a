/**
 * The README's usage example is what users copy first: it must be the type-checked
 * examples/readme.ts, byte for byte.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';

const root = resolve(import.meta.dirname, '..');

describe('README', () => {
  it('shows examples/readme.ts, unchanged, as its usage example', () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const usage = readme.slice(readme.indexOf('## Usage'));
    const block = /```ts\n([\s\S]*?)```/.exec(usage)?.[1];
    expect(block).to.equal(readFileSync(resolve(root, 'examples/readme.ts'), 'utf8'));
  });

  it('shows examples/readme.cjs, unchanged, as its plain JavaScript usage', () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const usage = readme.slice(readme.indexOf('## Usage'));
    const block = /```js\n([\s\S]*?)```/.exec(usage)?.[1];
    expect(block).to.equal(readFileSync(resolve(root, 'examples/readme.cjs'), 'utf8'));
  });

  it('shows examples/readme-oauth2.ts, unchanged, as its OAuth 2.0 usage', () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const usage = readme.slice(readme.indexOf('Sign in with X over OAuth 2.0 is the same app'));
    const block = /```ts\n([\s\S]*?)```/.exec(usage)?.[1];
    expect(block).to.equal(readFileSync(resolve(root, 'examples/readme-oauth2.ts'), 'utf8'));
  });

  it('links only to files and sections that exist', () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const anchors = new Set(
      [...readme.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')),
    );
    for (const [, target] of readme.matchAll(/\]\(((?:#|docs\/)[^)]+)\)/g)) {
      if (target!.startsWith('#')) expect(anchors, target).to.include(target!.slice(1));
      else expect(existsSync(resolve(root, target!)), target).to.equal(true);
    }
  });

  it('opens with the command that runs the example and the command that runs the tests', () => {
    const head = readFileSync(resolve(root, 'README.md'), 'utf8').split('\n').slice(0, 12).join('\n');
    expect(head).to.include('npm install && npm start');
    expect(head).to.include('npm test');
  });

  it('says on its first screen which Node versions the package runs on, as engines says', () => {
    const head = readFileSync(resolve(root, 'README.md'), 'utf8').split('\n').slice(0, 20).join('\n');
    const { engines } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(head).to.include(`Node.js \`${engines.node}\``);
    expect(head).to.include('tested on Node 20, 22 and 24');
  });

});
