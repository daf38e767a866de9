import { deepInfo, info } from '../info.js';
import { RecsysError } from '../errors.js';
import { deepInstallCommand, type DeepBackendInfo } from '../models/deep/backend.js';
import { parseArgs } from './args.js';

export async function infoCommand(args: string[]): Promise<void> {
  const { opts } = parseArgs(args, { flags: ['json', 'native-only'] });
  const i = info();
  // Finding the deep models' backend loads TensorFlow.js (about half a second); --native-only skips it.
  let deep: DeepBackendInfo | undefined;
  let missing: RecsysError | undefined;
  if (!opts['native-only']) {
    try {
      deep = await deepInfo();
    } catch (err) {
      if (!(err instanceof RecsysError && err.code === 'E_DEPENDENCY')) throw err;
      missing = err;
    }
  }
  if (opts.json) {
    const d = deep ? { available: true, ...deep } : missing ? { available: false, install: deepInstallCommand() } : undefined;
    console.log(JSON.stringify(d ? { ...i, deep: d } : i, null, 2));
    return;
  }
  console.log(
    [
      `recsys ${i.version} (Node ${i.node}, N-API ${i.napiVersion})`,
      `BLAS:     ${i.blas}${i.openblas ? '' : ' (built-in kernels; for OpenBLAS install libopenblas-dev and pkg-config, then npm rebuild recsys, or npm run build:native in a clone)'}`,
      `threads:  ${i.defaultThreads} (threads: 0 in any model uses all of them)`,
      `SIMD:     ${i.simd} (${i.dispatch ? `chosen at run time over the ${i.archFlag} baseline` : i.archFlag || 'default -march'})`,
      `compiler: ${i.compiler}`,
    ].join('\n'),
  );
  if (missing) {
    console.log(
      `deep:     not available: TensorFlow.js (optional) is not installed; for NeuMF, GMF, MLP, MultVAE, AutoRec and RecVAE: ${deepInstallCommand()}`,
    );
  }
  if (deep) {
    const tried = deep.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
    console.log(
      `deep:     TensorFlow.js ${deep.tfjsVersion} on ${deep.name} (${deep.package}${deep.simd ? ', SIMD' : ''}${deep.threads ? `, ${deep.threads} thread${deep.threads > 1 ? 's' : ''}` : ''})`,
    );
    if (tried) console.log(`          not used: ${tried}`);
    if (deep.name === 'cpu' && deep.skipped.some((s) => s.name === 'wasm' && s.reason === 'not installed')) {
      console.log(`          for the faster WebAssembly backend: npm install ${deep.skipped.find((s) => s.name === 'wasm')!.package}@${deep.tfjsVersion}`);
    }
    if (deep.name !== 'tensorflow' && deep.name !== 'tensorflow-gpu') {
      console.log(`          for native TensorFlow: npm install @tensorflow/tfjs-node@${deep.tfjsVersion} (or -gpu; downloads libtensorflow)`);
    }
  }
}
