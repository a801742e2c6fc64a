/**
 * The package's types as consumers compile them: the files in test/types/ (and the README's
 * example, examples/readme.ts) type-checked against the packed package by TypeScript 7 and
 * 5.9, under each module setting an app may use, with skipLibCheck off (in all but one) so the
 * shipped declarations are checked too. Their `@ts-expect-error` lines must be errors: one that is
 * not fails the compile.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { packedPackage, root } from './helpers/packed.js';

// By path, not node_modules/.bin/tsc: both packages install a `tsc`.
const TS7 = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const TS5 = join(root, 'node_modules', 'typescript5', 'bin', 'tsc');

/** Where the consumer files sit in a project, and in which module format each folder is. */
type Layout =
  /** ESM and CommonJS copies side by side, told apart by each folder's package.json "type". */
  | 'esm+cjs'
  /** One copy; the module setting alone decides. */
  | 'one'
  /** One copy, without the README example: it default-imports express, which needs esModuleInterop. */
  | 'one, no default imports';

interface Project {
  title: string;
  tsc: string;
  layout: Layout;
  compilerOptions: Record<string, unknown>;
}

const PROJECTS: Project[] = [
  { title: 'TypeScript 7, module nodenext (ESM and CommonJS files)', tsc: TS7, layout: 'esm+cjs', compilerOptions: { module: 'nodenext' } },
  { title: 'TypeScript 7, moduleResolution bundler', tsc: TS7, layout: 'one', compilerOptions: { module: 'preserve', moduleResolution: 'bundler' } },
  { title: 'TypeScript 5.9, module nodenext (ESM and CommonJS files)', tsc: TS5, layout: 'esm+cjs', compilerOptions: { module: 'nodenext' } },
  // skipLibCheck on, for time (it triples the compile): the other TypeScript 5.9 projects check
  // the same declaration files; this one checks the consumer code under bundler resolution.
  {
    title: 'TypeScript 5.9, moduleResolution bundler (skipLibCheck)',
    tsc: TS5,
    layout: 'one',
    compilerOptions: { module: 'preserve', moduleResolution: 'bundler', skipLibCheck: true },
  },
  // module commonjs resolves by node10 rules in TypeScript 5 (no exports map): main, types,
  // and testing/package.json. esModuleInterop off makes a default import of a CommonJS module
  // in a declaration file an error (TS1192).
  {
    title: 'TypeScript 5.9, module commonjs (node10 resolution), esModuleInterop off',
    tsc: TS5,
    layout: 'one, no default imports',
    compilerOptions: { module: 'commonjs', esModuleInterop: false },
  },
];

const COMMON_OPTIONS = { strict: true, target: 'es2022', noEmit: true, skipLibCheck: false, types: [] };

interface Outcome {
  code: number;
  output: string;
}

function compile(tsc: string, tsconfig: string): Promise<Outcome> {
  return new Promise((resolveOutcome) => {
    execFile(process.execPath, [tsc, '-p', tsconfig, '--pretty', 'false'], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolveOutcome({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Writes the project's consumer files and tsconfig under `dir`; returns the tsconfig's path. */
function writeProject(dir: string, project: Project): string {
  const sources = readdirSync(join(root, 'test', 'types'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(root, 'test', 'types', f));
  if (project.layout !== 'one, no default imports') sources.push(join(root, 'examples', 'readme.ts'));
  const folders = project.layout === 'esm+cjs' ? { esm: 'module', cjs: 'commonjs' } : { src: undefined };
  for (const [folder, type] of Object.entries(folders)) {
    mkdirSync(join(dir, folder), { recursive: true });
    if (type) writeFileSync(join(dir, folder, 'package.json'), JSON.stringify({ type }));
    for (const source of sources) copyFileSync(source, join(dir, folder, source.split('/').pop()!));
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: { ...COMMON_OPTIONS, ...project.compilerOptions },
      include: [
        ...Object.keys(folders).map((f) => `${f}/*.ts`),
        // Every shipped declaration file, not only those an entry point reaches.
        ...(project.layout === 'one, no default imports' ? ['../node_modules/passport-twitter-signin/**/*.d.ts'] : []),
      ],
    }),
  );
  return tsconfig;
}

// The compiles start when mocha loads this file, one at a time, so that they overlap the test
// files that run before this one while leaving them the machine's other core; when this file's
// tests start, a second compiler joins. Each test awaits its own project's compile.
const outcomes = new Map<Project, Promise<Outcome>>();
const queue = PROJECTS.map((project, i) => ({ project, tsconfig: writeProject(join(packedPackage().dir, `consumer-${i}`), project) }));
const settle = new Map<Project, (outcome: Outcome) => void>();
for (const { project } of queue) outcomes.set(project, new Promise((resolveOutcome) => settle.set(project, resolveOutcome)));
let next = 0;
async function compileQueued(): Promise<void> {
  while (next < queue.length) {
    const { project, tsconfig } = queue[next++]!;
    settle.get(project)!(await compile(project.tsc, tsconfig));
  }
}
void compileQueued();

describe('the consumer files in test/types', function () {
  this.timeout(120_000);
  before(() => void compileQueued());

  for (const project of PROJECTS) {
    it(`compile under ${project.title}`, async () => {
      const { code, output } = await outcomes.get(project)!;
      expect(output.trim(), output).to.equal('');
      expect(code).to.equal(0);
    });
  }
});
