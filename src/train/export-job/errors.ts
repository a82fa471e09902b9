/**
 * The named errors of exporting a run as a TRL + PEFT job. `RunConfigError` names the field of the run
 * config that is wrong (`training.lr`, `method.r`) and what it must be; `ExportJobError` says why a valid
 * run cannot become a job (a method PEFT lacks, a dataset shape TRL cannot take) and what to do instead.
 */

export class RunConfigError extends Error {
  override readonly name = 'RunConfigError';
  constructor(
    /** Where in the run config, as a dotted path ("training.lr"); "" for the whole file. */
    readonly field: string,
    detail: string,
  ) {
    super(field ? `Run config field "${field}": ${detail}` : `Run config: ${detail}`);
  }
}

export class ExportJobError extends Error {
  override readonly name = 'ExportJobError';
}
