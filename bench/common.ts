// Shared pieces of the benchmark scripts: command-line options, the run's circumstances, medians, peak RSS and
// writing bench/results/*.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { info } from '../ts/index.js';
import type { BenchResult, RunInfo } from '../ts/report/results.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, 'results');

/** --key=value / --key value / --flag options and positionals. */
export function parseOptions(argv = process.argv.slice(2)): { opts: Map<string, string>; positionals: string[] } {
  const opts = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq >= 0) opts.set(a.slice(2, eq), a.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) opts.set(a.slice(2), argv[++i]!);
    else opts.set(a.slice(2), 'true');
  }
  return { opts, positionals };
}

/** A comma-separated filter: undefined (everything) or lower-cased names. */
export function listOption(v: string | undefined): string[] | undefined {
  return v === undefined || v === 'true'
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Peak resident set size of this process so far, MiB (getrusage ru_maxrss). */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function runInfo(threads: number, notes?: string[]): RunInfo {
  const i = info();
  return {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model.trim() ?? '?', cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30), os: `${osType()} ${release()}` },
    node: process.version,
    recsys: `${i.version} (${i.simd}, ${i.compiler})`,
    blas: i.blas,
    threads,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    notes,
  };
}

export function describeInfo(r: RunInfo): string {
  return `${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGB} GB; node ${r.node}; recsys ${r.recsys}; BLAS ${r.blas}; load average ${r.loadavg?.join(' ')}`;
}

/** Writes a result file under bench/results (or `path`), stamping the load average at the end. */
export function writeResult(name: string, result: BenchResult, path?: string): string {
  result.info.loadavgAfter = loadavg().map((x) => Math.round(x * 100) / 100);
  const out = path ?? join(RESULTS_DIR, `${name}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
  return out;
}

export const freeMemoryGB = () => freemem() / 2 ** 30;

/** Fixed-width table rows for the terminal. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells
    .map((r, i) => r.map((v, c) => (c === 0 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join('  ') + (i === 0 ? '\n' + w.map((x) => '-'.repeat(x)).join('  ') : ''))
    .join('\n');
}

/** A Markdown table. */
export function mdTable(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, c) => (c === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );
}

export const fmt = (x: number | undefined, d = 3) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));

/**
 * A filtered run's rows merged into the existing result file: rows with the same key are replaced, new ones
 * appended, the rest kept (each row carries its own load average). Returns the rows to write.
 */
export function mergeRows<R>(path: string, rows: R[], key: (r: R) => string): R[] {
  if (!existsSync(path)) return rows;
  return mergeRowsInto((JSON.parse(readFileSync(path, 'utf8')) as { rows: R[] }).rows, rows, key);
}

/** `old` with the rows of `rows` that share a key replaced, and the others appended. */
export function mergeRowsInto<R>(old: R[], rows: R[], key: (r: R) => string): R[] {
  const fresh = new Map(rows.map((r) => [key(r), r]));
  const out = old.map((r) => fresh.get(key(r)) ?? r);
  const had = new Set(old.map(key));
  for (const r of rows) if (!had.has(key(r))) out.push(r);
  return out;
}

export const load1 = () => Math.round(loadavg()[0]! * 100) / 100;
