// Fuzz target 'http' (test/fuzz/targets/http.ts) in the test suite; see test/fuzz/suite.ts.
import { fuzzTarget } from './suite.js';

fuzzTarget('http');
