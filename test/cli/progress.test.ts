// The progress bar's line fits the terminal (issue 12, item 15: at 80 columns it used to cut its own ETA).
import { describe, expect, it } from 'vitest';
import { progressBar, progressLine } from '../../ts/cli/common.js';

const p = { phase: 'epoch', step: 37, total: 100, seconds: 125, loss: 0.123456 };

describe('progressLine fits the width', () => {
  it.each([40, 80, 200])('at %i columns: under the width, with the step count and the whole ETA', (width) => {
    const line = progressLine('fitting ImplicitALS', p, width);
    expect(line.length).toBeLessThan(width);
    expect(line).toMatch(/37\/100/);
    expect(line).toMatch(/ETA 3:33$/);
  });

  it('gives up the bar length, then the loss, then "elapsed", then the bar, then the label', () => {
    expect(progressLine('fitting ImplicitALS', p, 200)).toBe(
      'fitting ImplicitALS [#########---------------] epoch 37/100  loss 0.12346  2:05 elapsed, ETA 3:33',
    );
    expect(progressLine('fitting ImplicitALS', p, 80)).toBe('fitting ImplicitALS [#######-------------] epoch 37/100  2:05 elapsed, ETA 3:33');
    expect(progressLine('fitting ImplicitALS', p, 60)).toBe('fitting ImplicitALS [#####---------] epoch 37/100  ETA 3:33');
    expect(progressLine('fitting ImplicitALS', p, 40)).toBe('fitting Implici\u2026 epoch 37/100  ETA 3:33');
    expect(progressLine('fitting ImplicitALS', p, 16)).toBe('37/100 ETA 3:33');
  });

  it('the bar uses the stream width, 80 when the terminal does not say', () => {
    for (const columns of [undefined, 40, 200]) {
      const written: string[] = [];
      const tty = { isTTY: true, columns, write: (s: string) => void written.push(s) } as unknown as NodeJS.WriteStream;
      const bar = progressBar('fitting a model with a long name', tty);
      bar.onProgress!({ phase: 'iteration', step: 4, total: 15, seconds: 20, loss: 1.5 });
      const line = written[0]!.replace(/^\r/, '').replace(/\u001b\[K$/, ''); // eslint-disable-line no-control-regex -- the terminal's erase-line sequence;
      expect(line.length).toBeLessThan(columns ?? 80);
      expect(line).toMatch(/ETA 0:55$/);
    }
  });
});
