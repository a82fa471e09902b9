/**
 * Test helper: the F32 tensors of a safetensors file rewritten as a torch.save file by CPython's own
 * pickler (fixtures/make-torch-fixtures.py --convert), in the zip layout of torch >= 1.6 or the legacy
 * one. Needs python3; tests using it skip (saying why) when it is missing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPython } from '../../export-job/testing/python';

const converter = join(import.meta.dirname, '..', 'fixtures', 'make-torch-fixtures.py');

export { noPythonReason, python3Available } from '../../export-job/testing/python';

export function torchBinOf(safetensors: Uint8Array, layout: 'zip' | 'legacy'): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-torch-'));
  writeFileSync(join(dir, 'in.safetensors'), safetensors);
  const target = join(dir, 'out.bin');
  const legacy = layout === 'legacy' ? ['--legacy'] : [];
  const run = runPython([converter, '--convert', join(dir, 'in.safetensors'), target, ...legacy]);
  if (run.status !== 0) throw new Error(`the torch.save converter failed: ${run.stderr}`);
  return new Uint8Array(readFileSync(target));
}
