// `recsys report` belongs to the benchmark issue (accuracy and speed tables against published figures); until it
// lands the command says so.
import { RecsysError } from '../errors.js';

export const reportUsage = 'recsys report   (not available yet: it comes with the benchmark suite)';

export async function reportCommand(_args: string[]): Promise<void> {
  throw new RecsysError('E_UNSUPPORTED', 'recsys report is not available yet: it comes with the benchmark suite');
}
