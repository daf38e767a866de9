// Fuzz target 'parse' (test/fuzz/targets/parse.ts) in the test suite; see test/fuzz/suite.ts.
import { fuzzTarget } from './suite.js';

fuzzTarget('parse');
