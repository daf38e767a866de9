#!/usr/bin/env node
// Compiles ts/ twice, so that recsys loads in both module systems:
//   dist/      ES modules (tsconfig.json): what the CLI (bin recsys) runs;
//   dist/cjs/  CommonJS (tsconfig.cjs.json, without the CLI) beside a package.json that says so: require('recsys')
//              loads it, and so does import 'recsys', through dist/index.mjs, which re-exports it.
// One copy of the library per process however it is loaded, so RecsysError, Dataset and the models are the same
// classes for an ES module app and a CommonJS dependency of it. Two copies would split them, and the addon, which
// Node loads once per process, would raise the RecsysError class of whichever copy loaded last.
//   node scripts/build-ts.mjs [outDir]    default dist; the package test builds into a temporary folder
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Runs one tsc pass; resolves with its exit code (its output goes to ours). */
function compile(project, outDir) {
  const child = spawn(process.execPath, [tsc, '-p', join(root, project), '--outDir', outDir], { stdio: 'inherit' });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

// The two passes are independent: run them side by side.
const codes = await Promise.all([compile('tsconfig.json', out), compile('tsconfig.cjs.json', join(out, 'cjs'))]);
if (codes.some((c) => c !== 0)) process.exit(1);

writeFileSync(join(out, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
writeFileSync(
  join(out, 'index.mjs'),
  "// import 'recsys': the CommonJS build, re-exported, so that import and require share one copy (scripts/build-ts.mjs).\n" +
    "export * from './cjs/index.js';\n",
);
