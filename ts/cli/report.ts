// `recsys report <results.json…> -o report.html`: renders benchmark result files (bench/results/*.json) into one
// self-contained HTML page with inline SVG charts.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RecsysError, argError } from '../errors.js';
import { renderReport } from '../report/html.js';
import type { BenchResult } from '../report/results.js';
import { parseArgs } from './args.js';

const KINDS = ['kernels', 'accuracy', 'peers', 'scaling', 'deep'];

export const reportUsage =
  'recsys report <results.json...> [-o report.html] [--title TEXT]\n  results: files written by npm run bench, bench:accuracy, bench:peers, bench:scaling (bench/results/*.json)';

/** Reads and checks one result file. */
export function readResult(path: string): BenchResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RecsysError('E_IO', `cannot read ${path}: ${(err as Error).message}`);
  }
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (err) {
    throw new RecsysError('E_PARSE', `${path}: not JSON (${(err as Error).message})`);
  }
  const o = r as Partial<BenchResult> | null;
  if (!o || typeof o !== 'object' || !KINDS.includes(o.kind as string) || !Array.isArray(o.rows) || !o.info || typeof o.info !== 'object') {
    throw new RecsysError('E_PARSE', `${path}: not a recsys benchmark result (expected { kind: ${KINDS.join(' | ')}, info, rows })`);
  }
  return o as BenchResult;
}

export async function reportCommand(args: string[]): Promise<void> {
  const { opts, positionals } = parseArgs(
    args.map((a) => (a === '-o' ? '--output' : a)),
    { values: ['output', 'title'] },
  );
  if (positionals.length === 0) throw argError('report needs at least one results file (e.g. bench/results/accuracy.json)');
  const out = typeof opts.output === 'string' ? opts.output : 'report.html';
  const results = positionals.map(readResult);
  const html = renderReport(
    results,
    positionals.map((p) => basename(p)),
    typeof opts.title === 'string' ? opts.title : undefined,
  );
  try {
    writeFileSync(out, html);
  } catch (err) {
    throw new RecsysError('E_IO', `cannot write ${out}: ${(err as Error).message}`);
  }
  console.log(`wrote ${out} (${(html.length / 1024).toFixed(0)} KiB, ${(html.match(/<svg /g) ?? []).length} charts)`);
}
