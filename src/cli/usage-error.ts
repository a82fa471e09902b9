/** A mistake in how a command was called: the CLI prints it and exits 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
