/**
 * Training checkpoints on disk (Node), for `whetstone train --checkpoint-every N` and `--resume`: each
 * checkpoint is a folder `checkpoint-<step>` under the checkpoint directory holding the files of
 * checkpoint-state.ts. A checkpoint is written whole into a hidden temporary folder, each file flushed
 * to disk, and only then renamed into place, so a crash mid-write leaves the last good checkpoint as it
 * was and at worst a stray temporary folder, which is ignored and cleared on the next write. Resuming
 * takes the highest step whose folder holds every file.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointError,
  type CheckpointState,
  checkpointFiles,
  checkpointTensorsFile,
  readCheckpoint,
  trainerStateFile,
} from '../checkpoint-state';

const checkpointName = /^checkpoint-(\d+)$/;
const temporaryName = /^\.checkpoint-\d+\.(tmp|old)-/;

function writeDurably(path: string, content: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    while (written < content.byteLength) written += writeSync(fd, content, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the checkpoint atomically as `<dir>/checkpoint-<step>`; returns that folder. */
export function writeCheckpointFolder(dir: string, state: CheckpointState): string {
  mkdirSync(dir, { recursive: true });
  // Temporary folders a crashed write left behind.
  for (const name of readdirSync(dir))
    if (temporaryName.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
  const step = state.position.step;
  const target = join(dir, `checkpoint-${step}`);
  const temporary = join(dir, `.checkpoint-${step}.tmp-${process.pid}`);
  mkdirSync(temporary);
  for (const [name, content] of Object.entries(checkpointFiles(state)))
    writeDurably(join(temporary, name), content);
  // A rename cannot replace a folder that has files, so an older checkpoint of this step (a rerun from
  // an earlier one) is moved aside first and removed only once the new one is in place.
  const previous = existsSync(target) ? join(dir, `.checkpoint-${step}.old-${process.pid}`) : undefined;
  if (previous) renameSync(target, previous);
  renameSync(temporary, target);
  if (previous) rmSync(previous, { recursive: true, force: true });
  return target;
}

/** The steps of the complete checkpoints in `dir`, lowest first. */
export function checkpointSteps(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => checkpointName.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .filter((m) =>
      [trainerStateFile, checkpointTensorsFile].every((file) => existsSync(join(dir, m[0], file))),
    )
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The latest complete checkpoint in `dir`, read. */
export function readLatestCheckpoint(dir: string): { folder: string; state: CheckpointState } {
  const steps = checkpointSteps(dir);
  const step = steps[steps.length - 1];
  if (step === undefined) {
    throw new CheckpointError(
      `No checkpoint to resume from in ${dir}: it has no checkpoint-<step> folder holding ${trainerStateFile} and ${checkpointTensorsFile}. Train with --checkpoint-every N first, or point --resume at the checkpoint directory.`,
    );
  }
  const folder = join(dir, `checkpoint-${step}`);
  const state = readCheckpoint({
    [trainerStateFile]: readFileSync(join(folder, trainerStateFile)),
    [checkpointTensorsFile]: readFileSync(join(folder, checkpointTensorsFile)),
  });
  return { folder, state };
}
