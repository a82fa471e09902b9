/**
 * The `whetstone` command line: the same engine as the app (src/train, src/gpu), in Node through Dawn.
 * Public interface: keep command names and flags stable. In --json mode stdout holds only the JSON.
 */
import { parseArgs } from 'node:util';
import { runInfo } from './info';

const usage = `Usage: whetstone <command> [options]

Commands:
  info [--json]            the WebGPU adapter: vendor, architecture, features, limits
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { json: { type: 'boolean', default: false } },
    strict: false,
  });
  switch (command) {
    case 'info':
      return runInfo({ json: values.json === true });
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`whetstone: unknown command "${command}".\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    process.stderr.write(`whetstone: ${e.name}: ${e.message}\n`);
    process.exit(1);
  },
);
