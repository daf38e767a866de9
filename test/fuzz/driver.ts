// Runs a range of a target's cases in worker processes (worker.ts) and tallies them. A worker that dies is a
// crash of the case it had started, one that goes past the case's time budget is a hang, one that grows past the
// memory cap is a crash (memory); each is killed and a fresh worker goes on from the next case.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, targetMeta } from './targets/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

export type Kind = 'crash' | 'hang' | 'exception' | 'coercion' | 'wrong';
export const KINDS: Kind[] = ['crash', 'hang', 'exception', 'coercion', 'wrong'];

export interface FindingRecord {
  kind: Kind;
  target: string;
  seed: number;
  index: number;
  input: string;
  message: string;
}

export interface Tally {
  target: string;
  cases: number;
  ok: number;
  /** Refusals by error code (for HTTP: 'HTTP_<status>:<code>'). */
  refused: Record<string, number>;
  counts: Record<Kind, number>;
  findings: FindingRecord[];
  /** Cases not run (too many worker restarts, or interrupted). */
  skipped: number;
}

export function emptyTally(target: string): Tally {
  return { target, cases: 0, ok: 0, refused: {}, counts: { crash: 0, hang: 0, exception: 0, coercion: 0, wrong: 0 }, findings: [], skipped: 0 };
}

export function addTally(into: Tally, t: Tally, keep = 200): void {
  into.cases += t.cases;
  into.ok += t.ok;
  into.skipped += t.skipped;
  for (const [c, n] of Object.entries(t.refused)) into.refused[c] = (into.refused[c] ?? 0) + n;
  for (const k of KINDS) into.counts[k] += t.counts[k];
  for (const f of t.findings) if (into.findings.length < keep) into.findings.push(f);
}

export interface RunOptions {
  /** Stop early (an interrupted campaign); the cases not run count as skipped. */
  signal?: AbortSignal;
  /** Called after every finished case. */
  onCase?: () => void;
  /** Worker memory cap (RSS, MB) before the case counts as a crash. Default FUZZ_MAX_RSS_MB or 3000. */
  maxRssMb?: number;
  /** Worker restarts allowed before the rest of the range is skipped. */
  maxRestarts?: number;
  /** Called for every failure as it is found. */
  onFinding?: (kind: Kind) => void;
  /** Where fitted source models are cached (shared by the ranges of a campaign); default a fresh directory. */
  cacheDir?: string;
}

const live = new Set<import('node:child_process').ChildProcess>();
/** Kills every worker still running (a campaign that exits at once). */
export function killWorkers(): void {
  for (const c of live) c.kill('SIGKILL');
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs cases [start, end) of a target with the given seed. */
export async function runRange(target: string, seed: number, start: number, end: number, o: RunOptions = {}): Promise<Tally> {
  const meta = targetMeta(target);
  if (!meta) throw new Error(`unknown fuzz target '${target}'`);
  const tally = emptyTally(target);
  const maxRss = o.maxRssMb ?? Number(process.env.FUZZ_MAX_RSS_MB ?? 3000);
  const maxRestarts = o.maxRestarts ?? 40;
  const budget = meta.budgetMs * Number(process.env.FUZZ_BUDGET_SCALE ?? 1);
  let next = start;
  let restarts = 0;
  // Fitted source models, saved once for all the workers of this range.
  const ownCache = o.cacheDir === undefined;
  const cache = o.cacheDir ?? mkdtempSync(join(tmpdir(), 'recsys-fuzz-cache-'));
  const cleanup = () => {
    if (ownCache) rmSync(cache, { recursive: true, force: true });
  };
  const record = (kind: Kind, index: number, input: string, message: string) => {
    tally.counts[kind]++;
    o.onFinding?.(kind);
    if (tally.findings.length < 200) tally.findings.push({ kind, target, seed, index, input, message });
  };
  while (next < end && !o.signal?.aborted) {
    const r = await new Promise<{ next: number; fatal?: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'worker.ts'), target, String(seed), String(next), String(end)], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: { ...process.env, FUZZ_PROTOCOL_FD: '3', FUZZ_CACHE_DIR: cache },
      });
      live.add(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      let pending: { index: number; input: string } | undefined;
      let ready = false;
      let killedFor: { kind: Kind; message: string } | undefined;
      let deadline = Date.now() + 300_000; // setup: deep models fit first
      let finished = false;
      let resume = next;
      const kill = (kind: Kind, message: string) => {
        if (killedFor) return;
        killedFor = { kind, message };
        child.kill('SIGKILL');
      };
      const timer = setInterval(() => {
        if (child.pid !== undefined && rssMb(child.pid) > maxRss) kill('crash', `memory: worker RSS above ${maxRss} MB`);
        else if (Date.now() > deadline) kill('hang', pending ? `no result within ${budget} ms` : `worker setup took more than 300 s`);
      }, 100);
      const onAbort = () => kill('hang', 'interrupted');
      o.signal?.addEventListener('abort', onAbort, { once: true });
      let buf = '';
      (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const [tag, idx, ...rest] = line.split(' ');
          const index = Number(idx);
          if (tag === 'READY') {
            ready = true;
            deadline = Date.now() + budget;
          } else if (tag === 'S') {
            pending = { index, input: rest.join(' ') };
            deadline = Date.now() + budget;
          } else if (tag === 'R' || tag === 'F') {
            if (tag === 'R') {
              if (rest[0] === 'ok' || rest[0]!.startsWith('ok:')) tally.ok++;
              else tally.refused[rest[0]!] = (tally.refused[rest[0]!] ?? 0) + 1;
            } else {
              const kind = rest[0] as Kind;
              record(kind, index, pending?.index === index ? pending.input : '(before the case started)', rest.slice(1).join(' '));
            }
            if (pending?.index === index || tag === 'R') {
              tally.cases++;
              pending = undefined;
              resume = index + 1;
              o.onCase?.();
            }
          } else if (tag === 'END') finished = true;
        }
      });
      child.on('exit', (code, sig) => {
        live.delete(child);
        clearInterval(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (finished) return resolve({ next: end });
        if (killedFor?.message === 'interrupted') return resolve({ next: resume });
        const why = killedFor?.message ?? `worker died (${sig ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-6).join(' | ')}`;
        if (!ready && !pending) return resolve({ next: resume, fatal: `setup failed: ${why}` });
        if (pending) {
          record(killedFor?.kind ?? 'crash', pending.index, pending.input, why);
          tally.cases++;
          o.onCase?.();
          return resolve({ next: pending.index + 1 });
        }
        record(killedFor?.kind ?? 'crash', resume, '(between cases)', why);
        resolve({ next: resume + 1 });
      });
    });
    if (r.fatal) {
      record('crash', r.next, '(setup)', r.fatal);
      tally.skipped += end - r.next;
      cleanup();
      return tally;
    }
    next = r.next;
    if (next < end && !o.signal?.aborted && ++restarts > maxRestarts) {
      tally.skipped += end - next;
      record('crash', next, '(skipped)', `stopped after ${maxRestarts} worker restarts; cases ${next}..${end - 1} not run`);
      tally.counts.crash--; // the note is not a crash of its own
      cleanup();
      return tally;
    }
  }
  if (next < end) tally.skipped += end - next;
  cleanup();
  return tally;
}

/** The seed of this run: FUZZ_SEED, or a fresh one. */
export function runSeed(): number {
  const s = process.env.FUZZ_SEED;
  if (s !== undefined && s !== '') {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED must be an integer in [0, 2^32), got ${s}`);
    return n;
  }
  return Math.floor(Math.random() * 0xffffffff);
}

/** Cases per target: FUZZ_RUNS (a total, split by the targets' weights) or each target's CI default. */
export function runsFor(target: string): number {
  const total = process.env.FUZZ_RUNS;
  const meta = TARGETS[target]!;
  if (total === undefined || total === '') return meta.ciRuns;
  const sum = Object.values(TARGETS).reduce((a, m) => a + m.weight, 0);
  return Math.max(1, Math.round((Number(total) * meta.weight) / sum));
}

export function reproduce(f: FindingRecord): string {
  return `FUZZ_SEED=${f.seed} FUZZ_CASE=${f.index} npx vitest run test/fuzz/${f.target}.test.ts   (or: npx tsx test/fuzz/worker.ts ${f.target} ${f.seed} ${f.index})`;
}

export function formatFinding(f: FindingRecord): string {
  return `[${f.kind}] ${f.target} case ${f.index}: ${f.message}\n    input: ${f.input}\n    reproduce: ${reproduce(f)}`;
}

/** Findings grouped by target, kind and message with the numbers taken out: the first of each and how many. */
export function distinctFindings(findings: readonly FindingRecord[]): { first: FindingRecord; count: number }[] {
  const out = new Map<string, { first: FindingRecord; count: number }>();
  for (const f of findings) {
    // Crashes and hangs have no message of their own: their input's first words (the model, the call) tell them apart.
    const what = f.kind === 'crash' || f.kind === 'hang' ? f.input.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, 'N').slice(0, 40) : '';
    const key = `${f.target} ${f.kind} ${what} ${f.message
      .replace(/\[at .*$/, '')
      .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, 'N')
      .slice(0, 120)}`;
    const d = out.get(key);
    if (d) d.count++;
    else out.set(key, { first: f, count: 1 });
  }
  return [...out.values()];
}

/** One table: a row per target and a total row. */
export function formatTable(tallies: Tally[]): string {
  const total = emptyTally('TOTAL');
  for (const t of tallies) addTally(total, t, 0);
  const rows = [...tallies, total];
  const head = ['target', 'cases', 'ok', 'refused', 'crashes', 'hangs', 'exceptions', 'coercions', 'wrong', 'skipped'];
  const cells = rows.map((t) =>
    [
      t.target,
      t.cases,
      t.ok,
      Object.values(t.refused).reduce((a, b) => a + b, 0),
      t.counts.crash,
      t.counts.hang,
      t.counts.exception,
      t.counts.coercion,
      t.counts.wrong,
      t.skipped,
    ].map(String),
  );
  const w = head.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j]!.length)));
  const line = (c: string[]) => c.map((x, j) => (j === 0 ? x.padEnd(w[j]!) : x.padStart(w[j]!))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}
