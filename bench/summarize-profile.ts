/**
 * Where an app's CPU time goes, from a V8 `.cpuprofile` (`node --cpu-prof`): self time grouped
 * by package (`node_modules/<pkg>`, this package's `lib/`, node's internals, GC), the same time
 * charged to the nearest package on the stack (so the HMAC inside node's crypto counts for
 * whoever called it), and this package's hottest functions, mapped back to `lib/*.ts` lines
 * through the source maps next to the compiled files.
 *
 * Each sample counts as the profile's median sampling interval, not as the wall-clock gap to
 * the next sample: when other processes preempt the app, V8 takes one late sample after the gap,
 * and weighting by the gap would charge someone else's CPU time to whatever function was running.
 * Counting samples approximates the app thread's own CPU time (`--weight time` for the gaps).
 *
 * Usage: node --import tsx bench/summarize-profile.ts <file.cpuprofile> [--from µs] [--to µs] [--signins N] [--weight samples|time]
 *   --from/--to  keep only samples in this window of the profile's clock (`process.hrtime` in µs;
 *                the app's `/__bench` reports it), e.g. to drop start-up and warm-up
 *   --signins    sign-ins run in the window, to also show microseconds per sign-in
 */
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based. */
  lineNumber: number;
  /** 0-based. */
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds, on the `process.hrtime` clock. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** How a frame is grouped. `package` is a dependency, `self` this package, `app` the benchmark's own app. */
type Kind = 'self' | 'package' | 'app' | 'node-js' | 'native' | 'gc' | 'program' | 'idle' | 'root';

interface Frame {
  kind: Kind;
  group: string;
  /** `lib/client.ts:331 send` for this package; `node_modules/x/y.js:10 f` for others. */
  label: string;
}

export const SELF_GROUP = 'passport-twitter-signin (lib/)';
const GROUP_NAMES: Partial<Record<Kind, string>> = {
  'node-js': 'node internals (JS: http, net, streams, …)',
  native: 'node/V8 native (C++: crypto, parser, builtins)',
  gc: '(garbage collector)',
  program: '(program: V8/libuv outside JS)',
  idle: '(idle)',
  app: 'bench app (routes, verify)',
};
/** Charged view: time in node internals with no package above it on the stack. */
const UNCHARGED = 'node internals (no package on the stack: event loop, http parser, sockets)';

export interface GroupTime {
  group: string;
  us: number;
}

export interface FunctionTime {
  label: string;
  group: string;
  us: number;
}

export interface ProfileSummary {
  file: string;
  /** Wall-clock microseconds covered by the kept samples. */
  windowUs: number;
  /** Estimated CPU microseconds of the app's main thread: kept samples that are not idle. */
  activeUs: number;
  /** Estimated idle microseconds (the event loop waiting). */
  idleUs: number;
  samples: number;
  /** Microseconds one sample stands for (the median sampling interval), or 0 with `weight: 'time'`. */
  sampleUs: number;
  /** Whether --from/--to were applied (false: the whole profile, start-up included). */
  windowed: boolean;
  signIns: number | undefined;
  /** Self time by group, idle excluded, largest first. */
  selfByGroup: GroupTime[];
  /** Time charged to the nearest package frame on the stack, largest first. */
  chargedByGroup: GroupTime[];
  /** Every function's self time, largest first. */
  selfByFunction: FunctionTime[];
  /** Every function's self time plus the node internals and native code it calls, largest first. */
  chargedByFunction: FunctionTime[];
  /** This package's functions: self time plus the node internals and native code they call. */
  selfChargedByFunction: FunctionTime[];
  /** For each of this package's functions: the leaf frames whose time is charged to it, largest first. */
  selfChargedLeaves: Record<string, FunctionTime[]>;
  /** This package's functions: time with the function anywhere on the (synchronous) stack. */
  selfInclusiveByFunction: FunctionTime[];
}

export interface SummarizeOptions {
  /** Keep samples at or after this time (µs, profile clock). */
  from?: number;
  /** Keep samples before this time. */
  to?: number;
  signIns?: number;
  /** The repository root, for relative paths. Default: the parent of this file's directory. */
  root?: string;
  /** `samples` (default): each sample is worth the median interval. `time`: the gap to the next sample. */
  weight?: 'samples' | 'time';
}

const DEFAULT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function summarizeProfile(file: string, options: SummarizeOptions = {}): ProfileSummary {
  const root = options.root ?? DEFAULT_ROOT;
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    nodes.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const frames = new Map<number, Frame>();
  const maps = new SourceMaps();
  const frameOf = (id: number): Frame => {
    let frame = frames.get(id);
    if (frame === undefined) {
      frame = classify(nodes.get(id)!.callFrame, root, maps);
      frames.set(id, frame);
    }
    return frame;
  };

  // A window outside the profile's span means the clocks disagree: use the whole profile.
  const windowed =
    options.from !== undefined &&
    options.to !== undefined &&
    options.from >= profile.startTime &&
    options.to <= profile.endTime + 1_000_000 &&
    options.from < options.to;
  const from = windowed ? options.from! : -Infinity;
  const to = windowed ? options.to! : Infinity;

  const selfGroup = new Map<string, number>();
  const charged = new Map<string, number>();
  const selfFn = new Map<string, FunctionTime>();
  const chargedFn = new Map<string, FunctionTime>();
  const leavesOf = new Map<string, Map<string, FunctionTime>>();
  const inclusiveFn = new Map<string, FunctionTime>();
  // The sampling interval actually achieved (V8 stretches it on a loaded machine).
  const deltas = profile.timeDeltas.filter((d) => d > 0).sort((a, b) => a - b);
  const sampleUs = options.weight === 'time' ? 0 : (deltas[deltas.length >> 1] ?? 0);
  let windowStart = Infinity;
  let windowEnd = -Infinity;
  let activeUs = 0;
  let idleUs = 0;
  let kept = 0;
  const add = (map: Map<string, number>, key: string, us: number): void => {
    map.set(key, (map.get(key) ?? 0) + us);
  };
  const addFn = (map: Map<string, FunctionTime>, frame: Frame, us: number): void => {
    const entry = map.get(frame.label);
    if (entry) entry.us += us;
    else map.set(frame.label, { label: frame.label, group: frame.group, us });
  };

  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if (time < from || time >= to) continue;
    // 'time': a sample lasts until the next one (as Chrome's DevTools counts it).
    const us = sampleUs || (profile.timeDeltas[i + 1] ?? 0);
    const leaf = profile.samples[i]!;
    const leafFrame = frameOf(leaf);
    kept++;
    windowStart = Math.min(windowStart, time);
    windowEnd = Math.max(windowEnd, time);
    if (leafFrame.kind === 'idle') {
      idleUs += us;
      continue;
    }
    activeUs += us;
    add(selfGroup, leafFrame.group, us);
    addFn(selfFn, leafFrame, us);

    // Charged: the innermost frame that belongs to a package (or this package, or the app).
    let chargedTo: Frame | undefined;
    if (leafFrame.kind === 'gc' || leafFrame.kind === 'program') chargedTo = leafFrame;
    const onStack = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const frame = frameOf(id);
      const ownsTime = frame.kind === 'self' || frame.kind === 'package' || frame.kind === 'app';
      if (chargedTo === undefined && ownsTime) chargedTo = frame;
      if (frame.kind === 'self' && !onStack.has(frame.label)) {
        onStack.add(frame.label);
        addFn(inclusiveFn, frame, us);
      }
    }
    add(charged, chargedTo?.group ?? UNCHARGED, us);
    if (chargedTo !== undefined) addFn(chargedFn, chargedTo, us);
    if (chargedTo?.kind === 'self') {
      let leaves = leavesOf.get(chargedTo.label);
      if (leaves === undefined) leavesOf.set(chargedTo.label, (leaves = new Map()));
      addFn(leaves, leafFrame, us);
    }
  }

  const groups = (map: Map<string, number>): GroupTime[] =>
    [...map].map(([group, us]) => ({ group, us })).sort((a, b) => b.us - a.us);
  const fns = (map: Map<string, FunctionTime>, onlySelf = false): FunctionTime[] =>
    [...map.values()].filter((f) => !onlySelf || f.group === SELF_GROUP).sort((a, b) => b.us - a.us);
  return {
    file,
    windowUs: kept > 0 ? windowEnd - windowStart : 0,
    activeUs,
    idleUs,
    samples: kept,
    sampleUs,
    windowed,
    signIns: options.signIns,
    selfByGroup: groups(selfGroup),
    chargedByGroup: groups(charged),
    selfByFunction: fns(selfFn),
    chargedByFunction: fns(chargedFn),
    selfChargedByFunction: fns(chargedFn, true),
    selfChargedLeaves: Object.fromEntries([...leavesOf].map(([label, leaves]) => [label, fns(leaves)])),
    selfInclusiveByFunction: fns(inclusiveFn, true),
  };
}

function classify(frame: CallFrame, root: string, maps: SourceMaps): Frame {
  const name = frame.functionName || '(anonymous)';
  switch (frame.functionName) {
    case '(root)':
      return { kind: 'root', group: '(root)', label: '(root)' };
    case '(idle)':
      return { kind: 'idle', group: GROUP_NAMES.idle!, label: '(idle)' };
    case '(program)':
      return { kind: 'program', group: GROUP_NAMES.program!, label: '(program)' };
    case '(garbage collector)':
      return { kind: 'gc', group: GROUP_NAMES.gc!, label: '(garbage collector)' };
  }
  const url = frame.url;
  if (url === '') return { kind: 'native', group: GROUP_NAMES.native!, label: `${name} [native]` };
  if (url.startsWith('node:')) {
    return { kind: 'node-js', group: GROUP_NAMES['node-js']!, label: `${url}:${frame.lineNumber + 1} ${name}` };
  }
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  const rel = path.relative(root, file).split(path.sep).join('/');
  const nm = rel.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = rel.slice(nm + 'node_modules/'.length).split('/');
    const pkg = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    return { kind: 'package', group: pkg, label: `${rel.slice(nm)}:${frame.lineNumber + 1} ${name}` };
  }
  // This package: the benchmark's private build, the published dist/, or lib/ run through tsx.
  if (/^(bench\/out\/js\/lib|dist\/esm|dist\/cjs|lib)\//.test(rel)) {
    const original = maps.original(file, frame.lineNumber, frame.columnNumber, root);
    return { kind: 'self', group: SELF_GROUP, label: `${original ?? `${rel}:${frame.lineNumber + 1}`} ${name}` };
  }
  if (/^(bench\/out\/js\/)?bench\//.test(rel)) {
    const original = maps.original(file, frame.lineNumber, frame.columnNumber, root);
    return { kind: 'app', group: GROUP_NAMES.app!, label: `${original ?? `${rel}:${frame.lineNumber + 1}`} ${name}` };
  }
  return { kind: 'package', group: `other (${rel})`, label: `${rel}:${frame.lineNumber + 1} ${name}` };
}

/** Maps compiled positions to `lib/*.ts` lines with the `.js.map` beside each compiled file. */
class SourceMaps {
  readonly #maps = new Map<string, SourceMap | null>();

  /** `lib/client.ts:331`, or undefined when there is no map or no entry. */
  original(file: string, line: number, column: number, root: string): string | undefined {
    let map = this.#maps.get(file);
    if (map === undefined) {
      map = null;
      try {
        map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
      } catch {
        // No map (plain JS): keep the compiled position.
      }
      this.#maps.set(file, map);
    }
    if (map === null) return undefined;
    const entry = map.findEntry(line, column) as { originalSource?: string; originalLine?: number };
    if (entry.originalSource === undefined || entry.originalLine === undefined) return undefined;
    const source = entry.originalSource.startsWith('file:')
      ? fileURLToPath(entry.originalSource)
      : path.resolve(path.dirname(file), entry.originalSource);
    return `${path.relative(root, source).split(path.sep).join('/')}:${entry.originalLine + 1}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Markdown

const ms = (us: number): string => (us / 1000).toFixed(1);
const pct = (us: number, total: number): string => (total > 0 ? `${((100 * us) / total).toFixed(1)}%` : '–');
const perSignIn = (us: number, signIns: number | undefined): string =>
  signIns ? (us / signIns).toFixed(1) : '–';

function groupTable(rows: GroupTime[], s: ProfileSummary, limit = 14): string {
  const head = '| group | ms | share of CPU | µs / sign-in |\n| --- | ---: | ---: | ---: |';
  const shown = rows.slice(0, limit);
  const rest = rows.slice(limit).reduce((sum, r) => sum + r.us, 0);
  const lines = shown.map((r) => `| ${r.group} | ${ms(r.us)} | ${pct(r.us, s.activeUs)} | ${perSignIn(r.us, s.signIns)} |`);
  if (rest > 0) lines.push(`| (${rows.length - limit} more) | ${ms(rest)} | ${pct(rest, s.activeUs)} | ${perSignIn(rest, s.signIns)} |`);
  return [head, ...lines].join('\n');
}

function functionTable(rows: FunctionTime[], s: ProfileSummary, limit: number, withGroup = false): string {
  if (rows.length === 0) return '_(no samples)_';
  const head = withGroup
    ? '| function | group | ms | share of CPU | µs / sign-in |\n| --- | --- | ---: | ---: | ---: |'
    : '| function | ms | share of CPU | µs / sign-in |\n| --- | ---: | ---: | ---: |';
  const lines = rows
    .slice(0, limit)
    .map((r) =>
      withGroup
        ? `| \`${r.label}\` | ${r.group} | ${ms(r.us)} | ${pct(r.us, s.activeUs)} | ${perSignIn(r.us, s.signIns)} |`
        : `| \`${r.label}\` | ${ms(r.us)} | ${pct(r.us, s.activeUs)} | ${perSignIn(r.us, s.signIns)} |`,
    );
  return [head, ...lines].join('\n');
}

function leavesList(s: ProfileSummary, functions: number, leaves: number): string {
  const lines = s.selfChargedByFunction.slice(0, functions).map((fn) => {
    const parts = (s.selfChargedLeaves[fn.label] ?? [])
      .slice(0, leaves)
      .map((leaf) => `\`${leaf.label}\` ${perSignIn(leaf.us, s.signIns)}`);
    return `- \`${fn.label}\` (${perSignIn(fn.us, s.signIns)} µs/sign-in): ${parts.join(', ')}`;
  });
  return lines.length ? lines.join('\n') : '_(no samples)_';
}

/** The whole summary as Markdown, headings at `level`. */
export function renderProfileSummary(s: ProfileSummary, title: string, level = 3, limit = 12): string {
  const h = '#'.repeat(level);
  const selfTotal = s.selfByGroup.find((g) => g.group === SELF_GROUP)?.us ?? 0;
  const selfCharged = s.chargedByGroup.find((g) => g.group === SELF_GROUP)?.us ?? 0;
  // Another package's profile: no tables of this package's functions, they would be empty.
  const ours = selfTotal > 0;
  const ourSections = ours
    ? [
        `**This package, by self time:**`,
        '',
        functionTable(s.selfByFunction.filter((f) => f.group === SELF_GROUP), s, limit),
        '',
        `**This package, self + the node internals it calls directly (charged):**`,
        '',
        functionTable(s.selfChargedByFunction, s, limit),
        '',
        `**What the top ones spend it on** (leaf frames charged to each):`,
        '',
        leavesList(s, 5, 5),
        '',
        `**This package, inclusive** (the function anywhere on the synchronous stack; nested entries overlap):`,
        '',
        functionTable(s.selfInclusiveByFunction, s, limit),
        '',
      ]
    : [];
  return [
    `${h} ${title}`,
    '',
    `Profile \`${path.basename(s.file)}\`: ${s.samples} samples over ${ms(s.windowUs)} ms` +
      (s.sampleUs ? ` (one per ${s.sampleUs} µs achieved), ` : ', ') +
      `${ms(s.activeUs)} ms of CPU and ${ms(s.idleUs)} ms idle` +
      (s.windowed ? ', measured window only (start-up and warm-up cut off)' : ', whole process lifetime (no window)') +
      (s.signIns ? `, ${s.signIns} sign-ins: ${perSignIn(s.activeUs, s.signIns)} µs of profiled CPU per sign-in.` : '.') +
      (selfTotal > 0 ? ` This package: ${pct(selfTotal, s.activeUs)} self, ${pct(selfCharged, s.activeUs)} with the node internals it calls.` : ''),
    '',
    `**Self time by group** (where the CPU was when sampled):`,
    '',
    groupTable(s.selfByGroup, s),
    '',
    `**Charged to the nearest package on the stack** (node internals and native code count for the package that called them):`,
    '',
    groupTable(s.chargedByGroup, s),
    '',
    ...ourSections,
    `**Top functions overall, by self time:**`,
    '',
    functionTable(s.selfByFunction, s, limit + 3, true),
    '',
    `**Top functions overall, charged** (self + the node internals each calls; \`oauth\` rows are node-oauth, which this package also uses to sign):`,
    '',
    functionTable(s.chargedByFunction, s, limit + 3, true),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, signins: { type: 'string' }, weight: { type: 'string' } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('Usage: node --import tsx bench/summarize-profile.ts <file.cpuprofile> [--from µs] [--to µs] [--signins N]\n');
    process.exitCode = 2;
    return;
  }
  const summary = summarizeProfile(file, {
    ...(values.from !== undefined ? { from: Number(values.from) } : {}),
    ...(values.to !== undefined ? { to: Number(values.to) } : {}),
    ...(values.signins !== undefined ? { signIns: Number(values.signins) } : {}),
    ...(values.weight === 'time' ? { weight: 'time' as const } : {}),
  });
  process.stdout.write(renderProfileSummary(summary, `CPU profile: ${path.basename(file)}`, 2));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
