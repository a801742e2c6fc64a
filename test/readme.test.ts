/**
 * The README's usage example is what users copy first: it must be the type-checked
 * examples/readme.ts, byte for byte.
 */
import { readFileSync } from 'node:fs';
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
