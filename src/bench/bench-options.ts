/**
 * The benchmark's flags, shared by `npm run bench` and `whetstone bench` (one parser, one meaning):
 *   --gpu                 add SmolLM2-135M's shape and full-size kernel benchmarks
 *   --cases a:b,...       exact shape:method pairs (e.g. tiny-fixture:lora-r8); else --shapes × --methods
 *   --shapes a,b  --methods a,b  --warmup N  --steps N  --no-kernel-times
 *   --no-kernels          skip the kernel microbenchmarks    --kernels-only  only them
 *   --out DIR             write <time>.json, latest.json, latest.md there    --no-save  write nothing
 *   --json                stdout holds only the report JSON (progress goes to stderr)
 *   --render FILE [--markdown]  print a saved report again; measures nothing
 * Bad flags throw BenchUsageError with the flag and the known values.
 */
import { parseArgs } from 'node:util';
import { type MethodName, methodNames, modelShapes } from './cases';

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

export interface BenchOptions {
  gpu: boolean;
  json: boolean;
  /** Every shape:method pair to run, in order. */
  cases: { shape: string; method: MethodName }[];
  warmup?: number;
  steps?: number;
  out?: string;
  kernelTimes: boolean;
  kernels: boolean;
  render?: string;
  markdown: boolean;
}

const shapeNames = modelShapes.map((s) => s.name);

function list<T extends string>(value: string | undefined, known: readonly T[], what: string): T[] {
  if (value === undefined) return [...known];
  const chosen = value.split(',').map((s) => s.trim());
  const unknown = chosen.filter((s) => !known.includes(s as T));
  if (unknown.length > 0)
    throw new BenchUsageError(`Unknown ${what}: ${unknown.join(', ')}. Known: ${known.join(', ')}.`);
  return chosen as T[];
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new BenchUsageError(`--${name} must be a whole number above 0, got ${value}.`);
  return n;
}

function casePairs(value: string): BenchOptions['cases'] {
  return value.split(',').map((pair) => {
    const [shape, method, extra] = pair.trim().split(':');
    if (!shape || !method || extra !== undefined)
      throw new BenchUsageError(`--cases takes shape:method pairs separated by commas, got "${pair}".`);
    list(shape, shapeNames, 'shape in --cases');
    list(method, methodNames, 'method in --cases');
    return { shape, method: method as MethodName };
  });
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        gpu: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        cases: { type: 'string' },
        shapes: { type: 'string' },
        methods: { type: 'string' },
        warmup: { type: 'string' },
        steps: { type: 'string' },
        out: { type: 'string' },
        'no-kernel-times': { type: 'boolean', default: false },
        'no-kernels': { type: 'boolean', default: false },
        'kernels-only': { type: 'boolean', default: false },
        'no-save': { type: 'boolean', default: false },
        render: { type: 'string' },
        markdown: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  const text = (name: string) => values[name] as string | undefined;
  const flag = (name: string) => values[name] === true;
  if (text('cases') && (text('shapes') || text('methods')))
    throw new BenchUsageError('--cases names exact pairs; give it without --shapes or --methods.');
  if (flag('kernels-only') && flag('no-kernels'))
    throw new BenchUsageError('--kernels-only and --no-kernels contradict each other; give one.');
  const shapes = list(text('shapes'), shapeNames, 'shapes');
  const methods = list<MethodName>(text('methods'), methodNames, 'methods');
  const cases = flag('kernels-only')
    ? []
    : text('cases')
      ? casePairs(text('cases') as string)
      : shapes.flatMap((shape) => methods.map((method) => ({ shape, method })));
  return {
    gpu: flag('gpu'),
    json: flag('json'),
    cases,
    warmup: positive(text('warmup'), 'warmup'),
    steps: positive(text('steps'), 'steps'),
    out: flag('no-save') ? undefined : text('out'),
    kernelTimes: !flag('no-kernel-times'),
    kernels: !flag('no-kernels'),
    render: text('render'),
    markdown: flag('markdown'),
  };
}
