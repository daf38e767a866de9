// Renders the HTML report in headless Chromium (Debian's `chromium` package) and checks that the charts drew:
// the SVG elements are in the rendered DOM, and the screenshot shows the series colours. Skips, saying so, when
// chromium is not installed (CI installs it: .ci/run).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../ts/report/html.js';
import { PALETTE } from '../../ts/report/svg.js';
import { TempDir } from '../helpers/tmpdir.js';
import { accuracy, kernels, peers, scaling } from './fixtures.js';

const browser = ['chromium', 'chromium-browser'].find((b) => spawnSync(b, ['--version'], { encoding: 'utf8' }).status === 0);
if (!browser) console.warn('chromium not found: skipping the headless rendering test of the report (apt-get install chromium)');

/** RGBA pixels of an 8-bit RGB or RGBA, non-interlaced PNG. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  let p = 8;
  let width = 0,
    height = 0,
    channels = 0;
  const idat: Buffer[] = [];
  while (p < buf.length) {
    const len = buf.readUInt32BE(p),
      type = buf.toString('latin1', p + 4, p + 8),
      data = buf.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0 || (data[9] !== 2 && data[9] !== 6))
        throw new Error(`unsupported PNG (depth ${data[8]}, colour type ${data[9]}, interlace ${data[12]})`);
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    p += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels,
    out = new Uint8Array(width * height * 4),
    line = new Uint8Array(stride),
    prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!,
        a = x >= channels ? line[x - channels]! : 0,
        b = prev[x]!,
        c = x >= channels ? prev[x - channels]! : 0;
      const pa = Math.abs(b - c),
        pb = Math.abs(a - c),
        pc = Math.abs(a + b - 2 * c);
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      line[x] = (v + pred) & 255;
    }
    for (let x = 0; x < width; x++) {
      out.set([line[x * channels]!, line[x * channels + 1]!, line[x * channels + 2]!, channels === 4 ? line[x * 4 + 3]! : 255], (y * width + x) * 4);
    }
    prev.set(line);
  }
  return { width, height, rgba: out };
}

describe.skipIf(!browser)('the report in headless Chromium', () => {
  const tmp = new TempDir();
  afterAll(() => tmp.remove());
  const page = join(tmp.dir, 'report.html');
  writeFileSync(page, renderReport([kernels, accuracy, scaling, peers], ['k.json', 'a.json', 's.json', 'p.json']));
  const run = (...extra: string[]) =>
    spawnSync(
      browser!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${join(tmp.dir, `profile-${extra.length}-${Math.random().toString(36).slice(2)}`)}`,
        ...extra,
        `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 45_000, maxBuffer: 1 << 26 },
    );

  it('the rendered DOM holds every chart with its series and bars', () => {
    const r = run('--dump-dom');
    expect(r.status, r.stderr).toBe(0);
    const dom = r.stdout;
    expect((dom.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(12);
    expect((dom.match(/<path class="series"/g) ?? []).length).toBeGreaterThanOrEqual(8);
    expect((dom.match(/<rect class="bar"/g) ?? []).length).toBeGreaterThanOrEqual(10);
  });

  it('the screenshot is not blank: the first series colours cover many pixels', () => {
    const shot = join(tmp.dir, 'shot.png');
    const r = run('--window-size=1280,2600', `--screenshot=${shot}`);
    expect(r.status, r.stderr).toBe(0);
    const { width, height, rgba } = decodePng(readFileSync(shot));
    expect(width).toBe(1280);
    // The fixtures draw two series per chart: the first two palette colours (within rounding of colour handling).
    const colours = PALETTE.slice(0, 2).map((c) => [1, 3, 5].map((o) => parseInt(c.slice(o, o + 2), 16)));
    const counts = colours.map(() => 0);
    let nonWhite = 0;
    for (let i = 0; i < width * height * 4; i += 4) {
      if (rgba[i]! < 250 || rgba[i + 1]! < 250 || rgba[i + 2]! < 250) nonWhite++;
      colours.forEach((c, k) => {
        if (Math.abs(rgba[i]! - c[0]!) <= 6 && Math.abs(rgba[i + 1]! - c[1]!) <= 6 && Math.abs(rgba[i + 2]! - c[2]!) <= 6) counts[k]!++;
      });
    }
    expect(nonWhite / (width * height)).toBeGreaterThan(0.02);
    counts.forEach((n, k) => expect(n, `pixels of ${PALETTE[k]}`).toBeGreaterThan(500));
  });
});
