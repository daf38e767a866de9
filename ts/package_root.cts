// Where recsys is installed, for the files it reads from its own package (the addon, package.json), and a require()
// that resolves from there (the optional packages it loads on demand). A .cts file compiles to CommonJS in both builds
// (dist/ and dist/cjs/), where __dirname exists; import.meta.url would exist in the ES module build only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The nearest folder above this file whose package.json has a name (dist/cjs/package.json only sets the type). */
function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (typeof pkg.name === 'string') return dir;
    } catch {
      // no package.json here (or an unreadable one): keep going up
    }
    if (dirname(dir) === dir) throw new Error(`recsys: no package.json with a name above ${start}`);
  }
}

/** The package root: the folder holding recsys's package.json, build/ and prebuilds/. */
export const PACKAGE_ROOT: string = findPackageRoot(__dirname);

/** require() as if called from the package root. */
export const packageRequire: NodeJS.Require = createRequire(join(PACKAGE_ROOT, 'package.json'));
