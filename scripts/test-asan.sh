#!/usr/bin/env bash
# npm run test:asan: the native addon built with AddressSanitizer + UndefinedBehaviorSanitizer, and the whole
# vitest suite run against it. Any sanitizer report, crash or failing test fails the run.
#
# The build happens in a scratch copy of the tree (tracked and untracked-but-not-ignored files, node_modules
# linked), so the working tree keeps its default build/ and dist/ whatever happens to this run.
# Node itself is not instrumented, so the sanitizer runtimes are LD_PRELOADed into every process of the run.
#
#   RECSYS_BLAS=openblas npm run test:asan   instrument against OpenBLAS instead of the built-in kernels
#   ASAN_KEEP=1 npm run test:asan            keep the scratch tree (its path is printed)
#   npm run test:asan -- test/models         extra arguments go to vitest (a subset of the suite)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/recsys-asan.XXXXXX")
cleanup() { if [ "${ASAN_KEEP:-0}" = 1 ]; then echo "test:asan: scratch tree kept in $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
tree=$work/tree
logs=$work/sanitizer-logs
mkdir -p "$tree" "$logs" "$work/bin"

echo "test:asan: copying the tree to $tree"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$tree"
else
  (cd "$root" && tar --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./prebuilds -cf - .) | tar -xf - -C "$tree"
fi
ln -s "$root/node_modules" "$tree/node_modules"

# The built-in BLAS kernels are our code, so the sanitizers see their accesses; OpenBLAS is not instrumented.
export RECSYS_BLAS=${RECSYS_BLAS:-none}
# Debug info and frame pointers for readable stacks; -O1 as the ASan docs advise. vptr stays on: it catches a
# Model* cast to the wrong subclass (the addon has RTTI; -fno-rtti is removed in binding.gyp).
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
echo "test:asan: building the addon with $san (RECSYS_BLAS=$RECSYS_BLAS)"
build_start=$SECONDS
(cd "$tree" && CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" node scripts/install.mjs --force) >"$work/build.log" 2>&1 || {
  tail -50 "$work/build.log"; echo 'test:asan: FAILED (the sanitizer build did not compile)'; exit 1; }
addon=$tree/build/Release/recsys.node
# Not `ldd | grep -q`: under pipefail, grep -q exiting at the first match can SIGPIPE ldd and fail the check.
grep -q libasan <<<"$(ldd "$addon")" || { echo "test:asan: FAILED ($addon is not linked against libasan)"; exit 1; }
(cd "$tree" && node scripts/build-ts.mjs)
build_s=$((SECONDS - build_start))

cxx=${CXX:-g++}
libasan=$(realpath "$($cxx -print-file-name=libasan.so)")
libubsan=$(realpath "$($cxx -print-file-name=libubsan.so)")
[ -f "$libasan" ] && [ -f "$libubsan" ] || { echo "test:asan: FAILED (no libasan/libubsan runtime found by $cxx)"; exit 1; }

# Chromium (the report rendering test) cannot start with the ASan runtime preloaded, and it is not our code:
# a shim earlier on PATH starts it with a clean environment.
for b in chromium chromium-browser; do
  real=$(command -v "$b" || true)
  [ -n "$real" ] && printf '#!/bin/sh\nunset LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS\nexec %s "$@"\n' "$real" >"$work/bin/$b" && chmod +x "$work/bin/$b"
done
export PATH="$work/bin:$PATH"

export LD_PRELOAD="$libasan $libubsan"
# detect_leaks=0: V8 keeps its heap until exit by design, so LeakSanitizer would report every run.
# allocator_may_return_null=1: a failed huge malloc returns null as it does without ASan (V8 turns that into a
# RangeError), instead of an ASan abort. allow_user_segv_handler=1: V8's WebAssembly trap handler (tfjs wasm).
# ASan reports go to files (one per process, children included) so none is lost in a child's captured stderr;
# UBSan (gcc's runtime, preloaded beside ASan) ignores log_path and prints to stderr, so the output is scanned too.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1:allow_user_segv_handler=1:log_path=$logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
export RECSYS_SANITIZER=asan

echo "test:asan: running vitest under ASan + UBSan ($libasan, $libubsan)"
test_start=$SECONDS
set +o pipefail
status=0
(cd "$tree" && node_modules/.bin/vitest run --testTimeout=300000 --hookTimeout=300000 \
  --reporter=default --reporter=json --outputFile.json="$work/vitest.json" "$@") 2>&1 | tee "$work/vitest.out" || status=$?
status=${PIPESTATUS[0]}
set -o pipefail
test_s=$((SECONDS - test_start))

unset LD_PRELOAD
reports=("$logs"/*)
[ -e "${reports[0]}" ] || reports=()
counts=$(node -e '
  try { const r = require(process.argv[1]);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped, ${r.numFailedTestSuites} failed files`);
  } catch { console.log("no vitest result (the run did not finish)"); }' "$work/vitest.json")

for f in "${reports[@]}"; do
  echo "---------------- sanitizer report $(basename "$f") ----------------"
  cat "$f"
done
# Reports printed to stderr (UBSan; ASan in a process that could not open its log file): each with its stack.
pattern='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer'
printed=$(grep -cE "$pattern" "$work/vitest.out" || true)
if [ "$printed" -gt 0 ]; then
  echo "---------------- sanitizer reports in the test output ----------------"
  grep -E -A 12 "$pattern" "$work/vitest.out" | grep -vE 'Builtins_|v8::internal|v8impl|node-addon-api/napi-inl'
fi
echo "================ test:asan summary ================"
echo "build:    ASan + UBSan, RECSYS_BLAS=$RECSYS_BLAS, ${build_s}s"
echo "vitest:   exit $status, $counts, ${test_s}s"
echo "reports:  ${#reports[@]} sanitizer report file(s), $printed report line(s) in the test output"
echo "total:    $((SECONDS - start))s"
if [ "$status" -ne 0 ] || [ ${#reports[@]} -gt 0 ] || [ "$printed" -gt 0 ]; then
  echo 'result:   FAIL'
  exit 1
fi
echo 'result:   PASS (0 sanitizer findings)'
