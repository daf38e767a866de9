// recsys's public .d.ts files name no type of an optional package (TensorFlow.js, DuckDB), so a consumer compiles
// `import * as r from 'recsys'` under tsc --strict without skipLibCheck whether or not they are installed
// (TensorFlow.js's own .d.ts files have errors under those settings; an optional package may be absent). The
// declarations are emitted as `npm pack` ships them (tsconfig.json, stripInternal included) into a scratch
// node_modules/recsys beside the installed packages: TensorFlow.js among them, DuckDB left out.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'recsys-types-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function format(d: readonly ts.Diagnostic[]): string[] {
  return d.map((x) => ts.formatDiagnostic(x, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => scratch, getNewLine: () => '\n' }).trim());
}

describe('public type declarations', () => {
  it('mention no TensorFlow.js or DuckDB type, and a strict consumer without skipLibCheck compiles against them', () => {
    const pkgDir = join(scratch, 'node_modules', 'recsys');
    const config = ts.getParsedCommandLineOfConfigFile(join(repo, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const emitted = ts
      .createProgram({
        rootNames: config.fileNames,
        options: { ...config.options, outDir: join(pkgDir, 'dist'), emitDeclarationOnly: true, sourceMap: false, declarationMap: false },
      })
      .emit();
    expect(format(emitted.diagnostics)).toEqual([]);
    writeFileSync(join(pkgDir, 'package.json'), readFileSync(join(repo, 'package.json')));

    const dts: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.d.ts')) dts.push(join(d, e.name));
      }
    };
    walk(join(pkgDir, 'dist'));
    expect(dts.length).toBeGreaterThan(50);
    const naming = dts.filter((f) => /(from|import\()\s*['"]@(tensorflow|duckdb)\//.test(readFileSync(f, 'utf8')));
    expect(naming).toEqual([]);

    for (const name of readdirSync(join(repo, 'node_modules'))) {
      if (!name.startsWith('.') && name !== '@duckdb') symlinkSync(join(repo, 'node_modules', name), join(scratch, 'node_modules', name), 'dir');
    }
    const consumer = join(scratch, 'consumer', 'index.ts');
    mkdirSync(dirname(consumer));
    writeFileSync(join(scratch, 'consumer', 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      consumer,
      [
        "import * as r from 'recsys';",
        "const data = r.Dataset.fromArrays({ users: ['a', 'b'], items: ['x', 'y'] });",
        'const models: r.Recommender[] = [new r.ImplicitALS({ factors: 4 }), new r.NeuMF({ epochs: 1 }), new r.MultVAE(), new r.AutoRec()];',
        'const info: r.DeepBackendInfo | undefined = r.deepBackendInfo();',
        'export { data, models, info };',
      ].join('\n'),
    );
    const program = ts.createProgram({
      rootNames: [consumer],
      options: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: ['node'],
      },
    });
    // The consumer really resolved recsys to the emitted declarations.
    expect(program.getSourceFile(join(pkgDir, 'dist', 'index.d.ts'))).toBeDefined();
    expect(format(ts.getPreEmitDiagnostics(program))).toEqual([]);
  }, 180_000); // two full type checks (recsys, then the consumer with every library's .d.ts): ~30 s on 2 vCPUs
});
