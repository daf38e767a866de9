// TensorFlow.js for the deep models, loaded only when a deep model is used (importing recsys never loads it),
// on the fastest backend this machine has: native TensorFlow through @tensorflow/tfjs-node-gpu or
// @tensorflow/tfjs-node when the user installed one (optional peers: their installers download libtensorflow),
// else WebAssembly (@tensorflow/tfjs-backend-wasm, whose .wasm files ship inside the npm package and are read
// from its dist folder, never fetched), else the pure-JS cpu backend. @tensorflow/tfjs and the wasm backend are
// optional peers too: recsys installs without them, and a deep model constructed without @tensorflow/tfjs
// raises E_DEPENDENCY with the npm install line (requireTfjs).
//
// TensorFlow.js's types stay out of recsys's public .d.ts files (a consumer may not have it installed, and its
// own .d.ts files do not pass tsc --strict without skipLibCheck): everything here that names them is @internal,
// which tsconfig's stripInternal leaves out of the declarations.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { RecsysError, argError } from '../../errors.js';
import { packageRequire as nodeRequire } from '../../package_root.cjs';
import { packageJson } from '../../info.js';

/** @internal TensorFlow.js's module. */
export type Tf = typeof TF;

/** A backend recsys can run its deep models on, in the order they are tried by default. */
export type DeepBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const DEFAULT_BACKEND_ORDER: readonly DeepBackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface DeepBackendInfo {
  /** Which of the candidates is in use. */
  name: DeepBackendName;
  /** TensorFlow.js's own name for the backend ('tensorflow', 'wasm', 'cpu'). */
  tfBackend: string;
  /** The npm package that provides it. */
  package: string;
  /** Version of @tensorflow/tfjs. */
  tfjsVersion: string;
  /** Threads TensorFlow.js computes with, where known (wasm runs one thread in Node; cpu is single-threaded JS). */
  threads?: number;
  /** wasm: whether its SIMD build is in use. */
  simd?: boolean;
  /** Candidates tried before this one and why each was not used. */
  skipped: { name: DeepBackendName; package: string; reason: string }[];
}

export interface InitDeepBackendOptions {
  /**
   * Candidates in the order to try. Default: env RECSYS_DEEP_BACKEND (one name, tried first) then
   * tensorflow-gpu, tensorflow, wasm, cpu.
   */
  backends?: readonly DeepBackendName[];
}

const PACKAGES: Record<DeepBackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

type Loader = (pkg: string) => unknown;
const requireLoader: Loader = (pkg) => nodeRequire(pkg);
let loader: Loader = requireLoader;
let tfModule: Tf | undefined;
let current: (DeepBackendInfo & { syncFallback: boolean }) | undefined;
let warnedSync = false;

/**
 * For tests: replace how backend packages are loaded (e.g. to make one fail) and forget the current choice.
 * Pass undefined to restore the real loader.
 */
export function _setDeepBackendLoader(fn: Loader | undefined): void {
  loader = fn ?? requireLoader;
  current = undefined;
  warnedSync = false;
}

/** The backend in use, or undefined when no deep model has run yet (does not load TensorFlow.js). */
export function deepBackendInfo(): DeepBackendInfo | undefined {
  if (!current) return undefined;
  const { syncFallback: _s, ...info } = current;
  return { ...info, skipped: [...info.skipped] };
}

/** The packages the deep models are tested with: TensorFlow.js and its WebAssembly backend (optional peers of recsys). */
const DEEP_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;

/** The npm command that installs the deep models' packages at the versions package.json names. */
export function deepInstallCommand(): string {
  const peers = packageJson().peerDependencies;
  return `npm install ${DEEP_PACKAGES.map((p) => `${p}@${peers[p]}`).join(' ')}`;
}

let tfjsFound = false;
/**
 * Whether @tensorflow/tfjs can be found from here (resolved, not loaded). Only @tensorflow/tfjs is required:
 * without the wasm backend the deep models run on native TensorFlow (tfjs-node, which brings @tensorflow/tfjs)
 * or on the pure-JS cpu backend.
 */
export function tfjsInstalled(): boolean {
  if (!tfjsFound) {
    try {
      nodeRequire.resolve(DEEP_PACKAGES[0]);
      tfjsFound = true;
    } catch {
      // not installed (a later install in the same process is found on the next call)
    }
  }
  return tfjsFound;
}

/** E_DEPENDENCY, naming `what` and the npm install line, unless @tensorflow/tfjs is installed. */
export function requireTfjs(what: string): void {
  if (tfjsInstalled()) return;
  throw new RecsysError(
    'E_DEPENDENCY',
    `${what} needs TensorFlow.js, an optional dependency of recsys that is not installed here; install it with: ${deepInstallCommand()}`,
  );
}

function tf(): Tf {
  if (!tfModule) {
    requireTfjs('the deep models');
    tfModule = nodeRequire(DEEP_PACKAGES[0]) as Tf;
  }
  return tfModule;
}

function order(options: InitDeepBackendOptions): DeepBackendName[] {
  const o = options.backends ? [...options.backends] : [...DEFAULT_BACKEND_ORDER];
  if (!options.backends) {
    const env = process.env.RECSYS_DEEP_BACKEND;
    if (env) {
      if (!(DEFAULT_BACKEND_ORDER as readonly string[]).includes(env))
        throw argError(`RECSYS_DEEP_BACKEND must be one of ${DEFAULT_BACKEND_ORDER.join(', ')}, got '${env}'`);
      o.splice(o.indexOf(env as DeepBackendName), 1);
      o.unshift(env as DeepBackendName);
    }
  }
  if (o.length === 0) throw argError('backends must name at least one backend');
  for (const b of o)
    if (!(DEFAULT_BACKEND_ORDER as readonly string[]).includes(b))
      throw argError(`unknown deep backend '${String(b)}'; known: ${DEFAULT_BACKEND_ORDER.join(', ')}`);
  return o;
}

function reasonOf(err: unknown, pkg: string): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'MODULE_NOT_FOUND' && String(e.message ?? '').includes(pkg)) return 'not installed';
  return String(e?.message ?? err).split('\n')[0]!;
}

// tfjs-node registers its 'tensorflow' backend with the @tensorflow/tfjs-core it imports; a copy of another
// version would register elsewhere, so check ours has it.
function loadNative(name: 'tensorflow-gpu' | 'tensorflow'): string | undefined {
  const pkg = PACKAGES[name];
  try {
    loader(pkg);
  } catch (err) {
    return reasonOf(err, pkg);
  }
  const t = tf();
  if (!t.findBackendFactory('tensorflow')) {
    return `installed, but bound to another copy of @tensorflow/tfjs-core: install ${pkg}@${t.version.tfjs} to match @tensorflow/tfjs`;
  }
  if (!setSync('tensorflow')) return 'the tensorflow backend failed to initialise';
  return undefined;
}

// Backends whose factory is synchronous (cpu, tensorflow) are in use as soon as setBackend returns.
function setSync(name: string): boolean {
  const t = tf();
  void t.setBackend(name).catch(() => false);
  return t.getBackend() === name;
}

function quietCpu(): void {
  // The cpu backend prints a "use tfjs-node" banner on first use in Node; recsys info says the same more briefly.
  const b = tf().backend() as unknown as { firstUse?: boolean };
  if (b && typeof b === 'object' && 'firstUse' in b) b.firstUse = false;
}

function choose(name: DeepBackendName, skipped: DeepBackendInfo['skipped'], syncFallback: boolean, simd?: boolean): Tf {
  const t = tf();
  const tfBackend = t.getBackend();
  let threads: number | undefined;
  if (name === 'cpu') threads = 1;
  if (name === 'wasm') {
    try {
      threads = (loader(PACKAGES.wasm) as { getThreadsCount?: () => number }).getThreadsCount?.();
    } catch {
      threads = undefined;
    }
  }
  current = { name, tfBackend, package: PACKAGES[name], tfjsVersion: t.version.tfjs, threads, skipped, syncFallback };
  if (simd !== undefined) current.simd = simd;
  return t;
}

/**
 * Loads TensorFlow.js and selects the fastest available backend (see DEFAULT_BACKEND_ORDER); later calls return
 * the backend already chosen unless `backends` asks for another. fitAsync calls this; call it once yourself
 * before synchronous fits or scoring so that they run on WebAssembly, whose setup is asynchronous.
 */
export async function initDeepBackend(options: InitDeepBackendOptions = {}): Promise<DeepBackendInfo> {
  if (options === null || typeof options !== 'object') throw argError('initDeepBackend options must be an object');
  requireTfjs('initDeepBackend');
  const candidates = order(options);
  if (current && !current.syncFallback && (!options.backends || current.name === candidates[0])) return deepBackendInfo()!;
  const skipped: DeepBackendInfo['skipped'] = [];
  for (const name of candidates) {
    const pkg = PACKAGES[name];
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const why = loadNative(name);
      if (why === undefined) {
        choose(name, skipped, false);
        return deepBackendInfo()!;
      }
      skipped.push({ name, package: pkg, reason: why });
    } else if (name === 'wasm') {
      let why = initWasmSync();
      if (why !== undefined) {
        // The package's own (asynchronous) start, should the synchronous one not apply to this build of it.
        const before = processListeners();
        try {
          const w = loader(pkg) as { setWasmPaths(p: string): void };
          if (!wasmPathsSet && !started('wasm')) {
            w.setWasmPaths(`${wasmDir()}/`);
            wasmPathsSet = true;
          }
          why = (await tf().setBackend('wasm')) ? undefined : 'the wasm backend failed to initialise';
          if (why === undefined) wasmSimd = Boolean(await tf().env().getAsync('WASM_HAS_SIMD_SUPPORT'));
        } catch (err) {
          why = reasonOf(err, pkg);
        } finally {
          restoreListeners(before);
        }
      }
      if (why === undefined) {
        choose(name, skipped, false, wasmSimd);
        return deepBackendInfo()!;
      }
      skipped.push({ name, package: pkg, reason: why });
    } else {
      if (setSync('cpu')) {
        quietCpu();
        choose('cpu', skipped, false);
        return deepBackendInfo()!;
      }
      skipped.push({ name, package: pkg, reason: 'the cpu backend failed to initialise' });
    }
  }
  throw new RecsysError('E_UNSUPPORTED', `no TensorFlow.js backend could be used: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}
let wasmPathsSet = false;
let wasmSimd: boolean | undefined;

// Whether TensorFlow.js holds a started backend of that name (findBackend would start one, asynchronously for
// wasm, and block every op until it is done).
function started(name: string): boolean {
  return tf().engine().registry[name] !== undefined;
}

function wasmDir(): string {
  return dirname(nodeRequire.resolve(`${PACKAGES.wasm}/dist/tfjs-backend-wasm.wasm`));
}

/**
 * Starts the wasm backend synchronously, so that a plain fit() or recommend() can run on it without an await
 * first. The package starts its Emscripten module asynchronously only because browsers compile large modules
 * that way; in Node the module compiles and instantiates synchronously, and with an instantiateWasm hook the
 * runtime is ready when the factory returns. The backend object is then the package's own BackendWasm over that
 * module, registered under 'wasm' so the package's kernels apply. Returns why it could not, or undefined.
 */
// The parts of the Emscripten module object (which tfjs-backend-wasm.js's factory fills in) used here; the
// package's own type for it needs @types/emscripten.
interface WasmModule {
  instantiateWasm(imports: object, receive: (i: { exports: object }) => void): object;
  /** Set by the runtime once it has started. */
  calledRun?: boolean;
  cwrap?: (name: string, returns: 'number' | null, args: readonly 'number'[]) => (...args: number[]) => number;
  /** The bindings BackendWasm calls. */
  tfjs?: {
    init(): void;
    initWithThreadsCount(threads: number): void;
    getThreadsCount(): number;
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
    dispose(): void;
  };
}

function initWasmSync(): string | undefined {
  let pkg: { BackendWasm?: new (module: unknown) => TF.KernelBackend };
  const before = processListeners();
  try {
    pkg = loader(PACKAGES.wasm) as typeof pkg;
  } catch (err) {
    restoreListeners(before);
    return reasonOf(err, PACKAGES.wasm);
  }
  const t = tf();
  if (started('wasm')) return setSync('wasm') ? undefined : 'the wasm backend failed to initialise';
  try {
    const factory = loader(`${PACKAGES.wasm}/wasm-out/tfjs-backend-wasm.js`) as (config: object) => Promise<unknown>;
    if (typeof pkg.BackendWasm !== 'function' || typeof factory !== 'function') return 'this version of the wasm package has another layout';
    // (lib ES2022 has no WebAssembly typings; the two constructors used here.)
    const WA = (
      globalThis as { WebAssembly?: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object, imports: object) => { exports: object } } }
    ).WebAssembly;
    if (!WA) return 'this runtime has no WebAssembly';
    let simd = true;
    let compiled: object;
    try {
      compiled = new WA.Module(readFileSync(join(wasmDir(), 'tfjs-backend-wasm-simd.wasm')));
    } catch {
      simd = false;
      compiled = new WA.Module(readFileSync(join(wasmDir(), 'tfjs-backend-wasm.wasm')));
    }
    const module: WasmModule = {
      instantiateWasm: (imports: object, receive: (i: { exports: object }) => void) => {
        const instance = new WA.Instance(compiled, imports);
        receive(instance);
        return instance.exports;
      },
    };
    factory(module).catch(() => undefined);
    if (!module.calledRun || typeof module.cwrap !== 'function') return 'the WebAssembly module did not start synchronously';
    // The same bindings the package's init() makes.
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    const Backend = pkg.BackendWasm;
    if (t.findBackendFactory('wasm')) t.removeBackend('wasm');
    t.registerBackend('wasm', () => new Backend(module), 2);
    if (!setSync('wasm')) return 'the wasm backend failed to initialise';
    wasmSimd = simd;
    return undefined;
  } catch (err) {
    return reasonOf(err, PACKAGES.wasm);
  } finally {
    restoreListeners(before);
  }
}

// The wasm backend's Emscripten runtime installs process handlers that rethrow every uncaught exception and
// unhandled rejection (printing its whole minified source); a library must not change how the application's
// process handles errors, so they are removed again.
type Listeners = { uncaughtException: NodeJS.UncaughtExceptionListener[]; unhandledRejection: NodeJS.UnhandledRejectionListener[] };
function processListeners(): Listeners {
  return { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
}
function restoreListeners(before: Listeners): void {
  for (const l of process.listeners('uncaughtException')) if (!before.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
  for (const l of process.listeners('unhandledRejection')) if (!before.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
}

/**
 * TensorFlow.js with a backend ready now, for synchronous fits and scoring: the backend already chosen, else the
 * first candidate that starts (tfjs-node-gpu, tfjs-node, wasm — started synchronously — then cpu). Should wasm
 * not start that way, cpu is used and a warning says to await initDeepBackend() first.
 */
/** @internal */
export function tfSync(): Tf {
  if (current) {
    const t = tf();
    // Someone else may have switched TensorFlow.js's backend since: put ours back.
    if (t.getBackend() !== current.tfBackend && !setSync(current.tfBackend)) {
      throw new RecsysError('E_STATE', `the TensorFlow.js backend '${current.tfBackend}' is no longer usable; call initDeepBackend() again`);
    }
    return t;
  }
  requireTfjs('the deep models');
  const skipped: DeepBackendInfo['skipped'] = [];
  for (const name of order({})) {
    const pkg = PACKAGES[name];
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const why = loadNative(name);
      if (why === undefined) return choose(name, skipped, false);
      skipped.push({ name, package: pkg, reason: why });
    } else if (name === 'wasm') {
      const why = initWasmSync();
      if (why === undefined) return choose(name, skipped, false, wasmSimd);
      skipped.push({ name, package: pkg, reason: `${why}; call await initDeepBackend() (or use fitAsync) before synchronous fits` });
    } else if (setSync('cpu')) {
      quietCpu();
      if (!warnedSync && skipped.some((s) => s.name === 'wasm')) {
        warnedSync = true;
        process.emitWarning(
          'recsys: a deep model ran synchronously before initDeepBackend() was awaited, so TensorFlow.js uses its slow pure-JS cpu backend; await initDeepBackend() once at startup (or use fitAsync) to run on WebAssembly',
          { code: 'RECSYS_DEEP_SYNC_CPU' },
        );
      }
      return choose('cpu', skipped, true);
    }
  }
  throw new RecsysError('E_UNSUPPORTED', `no TensorFlow.js backend can be used synchronously: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** The wasm backend's heap: wasm32 addresses at most 4 GiB (4294901760 bytes in this build), whatever the machine has. */
export const WASM_HEAP_BYTES = 4294901760;

// Emscripten's abort() (malloc failing once the heap cannot grow, or any other abort) and wasm traps (an access
// out of bounds) both surface as WebAssembly.RuntimeError. After one the module is dead or its memory corrupt
// (measured: after an Aborted() from malloc, tf.sum([1, 2, 3]) answered 2), so it must never run again.
function isWasmFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'RuntimeError' && current?.tfBackend === 'wasm';
}

/**
 * Runs f, which uses TensorFlow.js. Should the wasm backend fail inside (see isWasmFailure), its module is
 * discarded, TensorFlow.js's scope bookkeeping is put back as it was before f, and a fresh module starts on the
 * next use (tfSync / initDeepBackend), so one failed fit never poisons the process; the failure is rethrown as
 * E_MEMORY (an abort there is, in practice, the heap running out).
 */
export function guardBackend<T>(what: string, f: () => T): T {
  const mark = engineMark();
  try {
    return f();
  } catch (err) {
    throw backendFailure(what, err, mark);
  }
}

/** What guardBackend puts back: the engine's scope and tape state (a failed op inside tf.tidy leaves it half-unwound). */
export interface EngineMark {
  scopes: number;
  gradientDepth: number;
  kernelDepth: number;
  activeTape: unknown;
}

interface EngineState {
  scopeStack: unknown[];
  activeScope: unknown;
  gradientDepth: number;
  kernelDepth: number;
  activeTape: unknown;
}

function engineState(): EngineState | undefined {
  if (!tfModule) return undefined;
  return (tfModule.engine() as unknown as { state?: EngineState }).state;
}

export function engineMark(): EngineMark | undefined {
  const s = engineState();
  return s && { scopes: s.scopeStack.length, gradientDepth: s.gradientDepth, kernelDepth: s.kernelDepth, activeTape: s.activeTape };
}

/** guardBackend's catch, for callers that cannot wrap their work in one function (the async fit). */
export function backendFailure(what: string, err: unknown, mark: EngineMark | undefined): unknown {
  if (!isWasmFailure(err)) return err;
  discardWasm(mark);
  const why = String((err as Error).message).split('.')[0];
  return new RecsysError(
    'E_MEMORY',
    `${what}: TensorFlow.js's wasm backend failed (${why}), most likely out of its ${(WASM_HEAP_BYTES / 2 ** 30).toFixed(0)} GiB heap; it was discarded and a fresh one starts on the next use`,
    { cause: err },
  );
}

function discardWasm(mark: EngineMark | undefined): void {
  const t = tf();
  const engine = t.engine() as unknown as { registry: Record<string, { dispose(): void; disposeData?: unknown }> };
  const dead = engine.registry['wasm'];
  // The dead module cannot run its own clean-up; its memory goes with the last reference to it.
  if (dead) {
    dead.dispose = () => undefined;
    dead.disposeData = () => true;
  }
  try {
    if (t.findBackendFactory('wasm')) t.removeBackend('wasm');
  } catch {
    // already gone
  }
  const s = engineState();
  if (s && mark) {
    s.scopeStack.length = Math.min(s.scopeStack.length, mark.scopes);
    s.activeScope = s.scopeStack[s.scopeStack.length - 1] ?? null;
    s.gradientDepth = mark.gradientDepth;
    s.kernelDepth = mark.kernelDepth;
    s.activeTape = mark.activeTape;
  }
  current = undefined;
  wasmSimd = undefined;
}
