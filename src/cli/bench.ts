/**
 * `whetstone bench`: the benchmark of src/bench (bench-command.ts) under the CLI; `npm run bench` runs
 * this same command (bench/run.mjs). Flags are the benchmark's own (src/bench/bench-options.ts), passed
 * through unparsed; its usage errors become CliUsageError (exit 2). With --json, stdout holds only the
 * report JSON.
 */
import { runBench } from '../bench/bench-command';
import { BenchUsageError } from '../bench/bench-options';
import { CliUsageError } from './usage-error';

export async function runBenchCommand(args: string[]): Promise<number> {
  try {
    return await runBench(args);
  } catch (error) {
    if (error instanceof BenchUsageError) throw new CliUsageError(error.message);
    throw error;
  }
}
