/**
 * Turns on the one GPU device: every training step and every generated token takes the device in
 * turn, one at a time, in the order asked. Runs' steps and the playground's tokens interleave instead
 * of racing over shared queues and scratch buffers.
 */
export type DeviceTurns = <T>(work: () => Promise<T>) => Promise<T>;

export function deviceTurns(): DeviceTurns {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const mine = last.then(work, work);
    // The next turn waits for this one, whether it succeeded or threw.
    last = mine.catch(() => undefined);
    return mine;
  };
}
