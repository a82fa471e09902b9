/**
 * The planner's ledger: every GPU buffer a run will allocate, by component, sized as the arena sizes it
 * (src/gpu/arena.ts: f32/u32 elements, rounded up to 16 bytes, never below 16). Summing the ledger gives
 * the plan's total; its largest entry is the one buffer that must fit in maxStorageBufferBindingSize.
 * Kept free of src/gpu so the UI can plan without a device; plan.cpu.test.ts checks the rounding
 * against the arena's own.
 */

/** What a buffer is for, as the plan reports it. */
export type MemoryComponent =
  | 'weights'
  | 'adapter'
  | 'gradients'
  | 'optimizer'
  | 'activations'
  | 'logits'
  | 'workspace';

export const memoryComponents: readonly MemoryComponent[] = [
  'weights',
  'adapter',
  'gradients',
  'optimizer',
  'activations',
  'logits',
  'workspace',
];

/** The arena's 16-byte rounding (BufferArena.alloc). */
export function arenaBytes(byteLength: number): number {
  return Math.max(16, Math.ceil(byteLength / 16) * 16);
}

export interface LedgerEntry {
  component: MemoryComponent;
  label: string;
  bytes: number;
}

export class Ledger {
  readonly entries: LedgerEntry[] = [];

  /** A tensor of 4-byte elements with this shape, `count` times (one per layer, say). */
  tensor(component: MemoryComponent, label: string, shape: readonly number[], count = 1): void {
    const elements = shape.reduce((a, b) => a * b, 1);
    this.bytes(component, label, elements * 4, count);
  }

  /** A buffer of `byteLength` bytes, `count` times. */
  bytes(component: MemoryComponent, label: string, byteLength: number, count = 1): void {
    const bytes = arenaBytes(byteLength);
    for (let i = 0; i < count; i++) this.entries.push({ component, label, bytes });
  }

  total(component?: MemoryComponent): number {
    return this.entries.reduce((n, e) => (component && e.component !== component ? n : n + e.bytes), 0);
  }

  largest(): LedgerEntry {
    return this.entries.reduce((a, b) => (b.bytes > a.bytes ? b : a), {
      component: 'workspace',
      label: 'nothing',
      bytes: 0,
    });
  }
}
