// Fuzz target 'arrays' (test/fuzz/targets/arrays.ts) in the test suite; see test/fuzz/suite.ts.
import { fuzzTarget } from './suite.js';

fuzzTarget('arrays');
