import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResult, reportCommand } from '../../ts/cli/report.js';
import { renderReport } from '../../ts/report/html.js';
import { powerLawExponent } from '../../ts/report/results.js';
import { barChart, lineChart, niceTicks, standaloneSvg } from '../../ts/report/svg.js';
import { TempDir } from '../helpers/tmpdir.js';
import { accuracy, deep, kernels, peers, scaling } from './fixtures.js';
import { deepMarkdown } from '../../bench/markdown.js';

describe('report charts', () => {
  it('line chart: one path per series, points placed by the axes (log x: equal ratios, equal steps)', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      logX: true,
      series: [
        {
          name: 'a',
          points: [
            [1, 0],
            [10, 1],
            [100, 2],
          ],
        },
        { name: 'b', points: [[1, 1]] },
      ],
    });
    expect(svg.match(/<path class="series"/g)).toHaveLength(2);
    const cx = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(cx[1]! - cx[0]!).toBeCloseTo(cx[2]! - cx[1]!, 0);
    expect(cx[1]! - cx[0]!).toBeGreaterThan(50);
  });

  it('leaves out points a log axis cannot show, and says "no data" when nothing is left', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
      series: [
        {
          name: 'a',
          points: [
            [1, 0],
            [2, NaN],
          ],
        },
      ],
    });
    expect(svg).toContain('no data');
    expect(svg).not.toContain('NaN');
  });

  it('bar chart: bar lengths proportional to values on a linear axis, markup escaped', () => {
    const svg = barChart({ title: '<b>&', categories: ['x<y', 'z'], series: [{ name: 's', values: [1, 3] }], xLabel: 'v' });
    const w = [...svg.matchAll(/<rect class="bar" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(w[1]! / w[0]!).toBeCloseTo(3, 1);
    expect(svg).toContain('&lt;b&gt;&amp;');
    expect(svg).toContain('x&lt;y');
  });

  it('a standalone chart file carries its own styles and background and keeps the chart intact', () => {
    const chart = lineChart({
      title: 'a < b',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            [0, 1],
            [1, 2],
          ],
        },
      ],
    });
    const file = standaloneSvg(chart);
    expect(file.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')).toBe(true);
    expect(file).toMatch(/^<svg[^>]*><style>[^<]*\.title\{[^<]*\.grid\{[^<]*<\/style><rect width="100%" height="100%" fill="#fff"\/>/m);
    expect(
      file
        .replace(/<style>[^<]*<\/style><rect[^>]*\/>/, '')
        .replace(/^<\?xml[^>]*>\n/, '')
        .trimEnd(),
    ).toBe(chart);
    expect(file.match(/<svg/g)).toHaveLength(1);
  });

  it('nice ticks cover the range with round steps', () => {
    expect(niceTicks(0, 0.47)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(niceTicks(3, 3).length).toBeGreaterThan(1);
  });

  it('power-law exponent of exact power laws', () => {
    expect(
      powerLawExponent([
        [1e6, 2],
        [1e7, 20],
        [5e7, 100],
      ]),
    ).toBeCloseTo(1, 10);
    expect(
      powerLawExponent([
        [10, 100],
        [100, 10000],
      ]),
    ).toBeCloseTo(2, 10);
    expect(powerLawExponent([[10, 1]])).toBeNaN();
  });
});

describe('recsys report', () => {
  const tmp = new TempDir();
  afterAll(() => tmp.remove());
  afterEach(() => vi.restoreAllMocks());

  it('renders every kind of result into one self-contained page', () => {
    const html = renderReport([deep, peers, accuracy, scaling, kernels], ['d.json', 'p.json', 'a.json', 's.json', 'k.json']);
    // sections in a fixed order whatever the input order
    const at = (s: string) => html.indexOf(s);
    expect(at('Native kernels')).toBeLessThan(at('Accuracy and speed'));
    expect(at('Accuracy and speed')).toBeLessThan(at('Scaling with data size'));
    expect(at('Scaling with data size')).toBeLessThan(at('recsys vs peers'));
    expect(at('recsys vs peers')).toBeLessThan(at('Deep models'));
    expect(html).toContain('Seconds per epoch by backend');
    expect(html).toContain('ndcg@10 0.4300');
    expect(html).toContain('NDCG@K');
    expect(html).toContain('training loss');
    expect(html).toContain('Fit time vs interactions');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('fixture &lt;with markup &amp; &quot;quotes&quot;&gt;');
  });

  it('writes the page from files given on the command line, -o naming the output', async () => {
    const files = [kernels, accuracy, scaling, peers, deep].map((r) => tmp.file(JSON.stringify(r), `${r.kind}.json`));
    const out = join(tmp.dir, 'out.html');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    await reportCommand([...files, '-o', out]);
    expect(existsSync(out)).toBe(true);
    expect((readFileSync(out, 'utf8').match(/<svg /g) ?? []).length).toBeGreaterThan(10);
  });

  it('renders the deep-model section of BENCHMARKS.md: metrics and a seconds-per-epoch table by backend', () => {
    const md = deepMarkdown(deep);
    expect(md).toContain('| ms-recommenders | NeuMF | ndcg@10 0.4300 | 22.0 | NCF 0.396 |');
    expect(md).toMatch(/\| model \| wasm \| cpu \|\n\|[-|: ]+\|\n\| NeuMF \| 1\.40 \| 44\.00 \|/);
  });

  it('rejects missing, non-JSON and foreign files with typed errors', async () => {
    expect(() => readResult(join(tmp.dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'E_IO' }));
    expect(() => readResult(tmp.file('{nope', 'bad.json'))).toThrow(expect.objectContaining({ code: 'E_PARSE' }));
    expect(() => readResult(tmp.file('{"kind":"other","rows":[]}', 'other.json'))).toThrow(expect.objectContaining({ code: 'E_PARSE' }));
    await expect(reportCommand([])).rejects.toMatchObject({ code: 'E_ARG' });
    await expect(reportCommand([join(tmp.dir, 'missing.json')])).rejects.toMatchObject({ code: 'E_IO' });
  });
});
