import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { evaluateCommand } from '../../ts/cli/evaluate.js';
import { recommendCommand, similarCommand } from '../../ts/cli/recommend.js';
import { trainCommand } from '../../ts/cli/train.js';
import { parseSets, progressBar } from '../../ts/cli/common.js';
import { loadModel, readModelInfo } from '../../ts/index.js';
import { factorModel, tempDir } from '../io/helpers.js';
import { synthetic } from '../helpers/synthetic.js';

const tmp = tempDir('recsys-cli-');
afterAll(() => tmp.remove());
afterEach(() => vi.restoreAllMocks());

// A u.data-style file (tab separated user item rating time) of generated interactions.
function writeData(name: string, seed: number): string {
  const d = synthetic({ users: 60, items: 80, minPerUser: 5, maxPerUser: 15, seed });
  const { rows, cols, values, times } = d.toCoo();
  const lines = Array.from(rows, (r, p) => `${String(d.users.id(r)).slice(1)}\t${String(d.items.id(cols[p]!)).slice(1)}\t${values![p]}\t${times![p]}`);
  const path = tmp.path(name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

async function run(f: (args: string[]) => Promise<void>, args: string[]): Promise<string> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  vi.spyOn(console, 'error').mockImplementation(() => {});
  await f(args);
  vi.restoreAllMocks();
  return out.join('\n');
}

describe('recsys train / recommend / similar / evaluate', () => {
  const data = writeData('u.data', 3);
  const test = writeData('u1.test', 4);

  it('train fits a registry model (aliases and --set) and writes a loadable file', async () => {
    const out = tmp.path('base.rsm');
    const summary = JSON.parse(
      await run(trainCommand, ['--data', data, '--model', 'baseline', '--set', 'epochs=3', '--set', 'method=als', '--threads', '1', '--out', out, '--json']),
    );
    expect(summary).toMatchObject({ model: 'BaselineOnly', params: { epochs: 3, method: 'als', threads: 1 }, out, interactions: expect.any(Number) });
    expect(summary.checksum).toBe(readModelInfo(out).checksum);
    const m = loadModel(out);
    expect(m.name).toBe('BaselineOnly');
    expect(m.params).toMatchObject({ epochs: 3 });
    const list = await run(trainCommand, ['--list']);
    expect(list).toMatch(/BaselineOnly/);
  });

  it('recommend and similar answer from a file, ids typed as text', async () => {
    const out = tmp.path('pop.rsm');
    await run(trainCommand, ['--data', data, '--model', 'Popularity', '--out', out]);
    const m = loadModel(out);
    const user = m.trainData.users.ids[3]!; // a number: the file's ids are integers
    expect(typeof user).toBe('number');
    const r = JSON.parse(await run(recommendCommand, ['--model', out, '--user', String(user), '--k', '4', '--json']));
    expect(r).toEqual({ user, items: m.recommend(user, { k: 4 }) });
    const text = await run(recommendCommand, ['--model', out, '--user', String(user), '--k', '4']);
    expect(text).toMatch(/rank\s+item\s+score/);
    const items = m.trainData.items.ids.slice(0, 2).map(String).join(',');
    const fold = JSON.parse(await run(recommendCommand, ['--model', out, '--items', items, '--k', '3', '--json']));
    expect(fold.items).toEqual(m.recommendForNewUser({ items: m.trainData.items.ids.slice(0, 2) }, { k: 3 }));
    await expect(run(recommendCommand, ['--model', out, '--user', 'nobody'])).rejects.toMatchObject({ code: 'E_UNKNOWN_USER' });
    await expect(run(recommendCommand, ['--model', out])).rejects.toMatchObject({ code: 'E_ARG' });
    const f = factorModel(10, 20, 4, 2);
    const fpath = tmp.path('f.rsm');
    f.save(fpath);
    const sim = JSON.parse(await run(similarCommand, ['--model', fpath, '--item', '1005', '--k', '3', '--json']));
    expect(sim).toEqual({ item: 1005, items: f.similarItems(1005, 3) });
    await expect(run(similarCommand, ['--model', out, '--item', String(m.trainData.items.ids[0])])).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
  });

  it('evaluate fits on a split, or evaluates a saved model on a test file', async () => {
    const r = JSON.parse(await run(evaluateCommand, ['--model', 'BaselineOnly', '--data', data, '--split', 'random', '--metrics', 'rmse,mae', '--json']));
    expect(r.model).toBe('BaselineOnly');
    expect(r.metrics.rmse).toBeGreaterThan(0.3);
    expect(r.metrics.rmse).toBeLessThan(3);
    const out = tmp.path('eval.rsm');
    await run(trainCommand, ['--data', data, '--model', 'BaselineOnly', '--out', out]);
    const saved = JSON.parse(await run(evaluateCommand, ['--model', out, '--test', test, '--metrics', 'rmse,ndcg', '--k', '5', '--json']));
    expect(saved.metrics).toMatchObject({ rmse: expect.any(Number), 'ndcg@5': expect.any(Number) });
    await expect(run(evaluateCommand, ['--model', out, '--data', data])).rejects.toMatchObject({ code: 'E_ARG' });
    await expect(run(evaluateCommand, ['--model', 'NoSuchModel', '--data', data])).rejects.toMatchObject({
      code: 'E_ARG',
      message: expect.stringMatching(/models: /),
    });
  });

  it('--set values are JSON when they parse, text otherwise', () => {
    expect(parseSets(['factors=64', 'reg=0.05', 'binary=true', 'solver=cg', 'name=a=b'])).toEqual({
      factors: 64,
      reg: 0.05,
      binary: true,
      solver: 'cg',
      name: 'a=b',
    });
    expect(() => parseSets(['oops'])).toThrow(/key=value/);
  });

  it('the progress bar draws on a terminal only, with an ETA', () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 200, write: (s: string) => void written.push(s) } as unknown as NodeJS.WriteStream;
    const bar = progressBar('fitting X', tty);
    bar.onProgress!({ phase: 'epoch', step: 1, total: 4, seconds: 2, loss: 0.5 });
    bar.onProgress!({ phase: 'epoch', step: 4, total: 4, seconds: 8 });
    bar.done();
    expect(written[0]).toMatch(/fitting X \[######------------------\] epoch 1\/4 {2}loss 0\.50000 {2}0:02 elapsed, ETA 0:06/);
    expect(written.at(-1)).toBe('\n');
    expect(progressBar('x', { isTTY: false } as NodeJS.WriteStream).onProgress).toBeUndefined();
  });
});

describe('the recsys binary', () => {
  const main = fileURLToPath(new URL('../../ts/cli/main.ts', import.meta.url));
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });

  it('has --help for every command and fails with one line and a non-zero exit', () => {
    const top = cli('--help');
    expect(top.status).toBe(0);
    for (const c of ['info', 'demo', 'train', 'evaluate', 'recommend', 'similar', 'serve', 'report']) expect(top.stdout).toContain(`  ${c} `);
    const help = cli('serve', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--token T/);
    const bad = cli('recommend', '--model', tmp.path('missing.rsm'), '--user', '1');
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^recsys: cannot open model file .*\(E_IO\)/);
  });
});
