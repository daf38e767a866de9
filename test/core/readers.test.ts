// The native side holds no option defaults (native/core/common.h): options are read with the required readers
// (int_req, real_req, bool_req, string_req, real_param). This fails if a defaulted reader comes back, as a
// declaration taking a default or as an object reader called the old way, int_arg(o, "factors", 64, 1, 4096).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', 'native');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(cc|h)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Lines of native/ that match `re`, as "file:line: text". */
function matches(re: RegExp): string[] {
  return sources(root).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, n) => (re.test(line) ? [`${f.slice(root.length + 1)}:${n + 1}: ${line.trim()}`] : [])),
  );
}

describe('native option readers', () => {
  it('finds the native sources', () => {
    expect(sources(root).length).toBeGreaterThan(20);
  });

  it('no reader takes a default value', () => {
    expect(matches(/\bdflt\b|\bdefault_value\b/)).toEqual([]);
  });

  it('no option is read from an object with a positional reader (int_arg(o, "key", ...) is the old defaulted form)', () => {
    expect(matches(/\b(int|real|bool|string|number)_arg\(\s*[A-Za-z_]\w*\s*,\s*"/)).toEqual([]);
  });

  it('the check itself catches the old form', () => {
    const re = /\b(int|real|bool|string|number)_arg\(\s*[A-Za-z_]\w*\s*,\s*"/;
    expect(re.test('  p.factors = static_cast<int>(int_arg(o, "factors", 64, 1, 4096));')).toBe(true);
    expect(re.test('  int k = static_cast<int>(int_arg(info[1], "k", 0, 1 << 30));')).toBe(false);
  });
});
