/**
 * One live run: its name and colour, status, progress bar, Stop (while it trains), Download (once it has
 * produced files), the worker's error if it failed, and its measured metrics (for a classifier, also its
 * latest validation accuracy, F1 and confusion matrix; for a DPO run, its β, latest rewards, and before
 * its first step the progress of its reference pass).
 */
import { downloadRun } from '../../download/run-download';
import { methodDetails } from '../../state/method-labels';
import { dpoName } from '../../state/preference-setup';
import { isActive, lastProgress, type RunRecord, type RunStatus } from '../../state/run-record';
import { useAppStore } from '../../state/store';
import { ClassificationMetrics } from './ClassificationScores';
import { formatBytes } from './format-metric';
import { MetricsTable } from './MetricsTable';

const statusText: Record<RunStatus, string> = {
  starting: 'Starting…',
  running: 'Training',
  paused: 'Paused',
  interrupted: 'Interrupted',
  finished: 'Finished',
  stopped: 'Stopped',
  failed: 'Failed',
};

export function methodSummary(record: RunRecord): string {
  const t = record.settings.train;
  const extras = `${record.settings.baseQuantization ? ' · base 4-bit NF4' : ''}${t.loraPlusLrRatio ? ` · LoRA+ ×${t.loraPlusLrRatio}` : ''}`;
  const accumulated = t.gradAccum > 1 ? ` (× ${t.gradAccum} accumulated)` : '';
  const checkpointing = t.gradientCheckpointing ? ' · gradient checkpointing' : '';
  const dpo = t.preference ? ` · ${dpoName(t.preference.lossType)}, β ${t.preference.beta}` : '';
  return `${methodDetails(record.settings.method)}${extras}${dpo} · batch ${t.batchSize}${accumulated} × ${t.seqLen} tokens · lr ${t.lr}${checkpointing}`;
}

export function RunCard({ record }: { record: RunRecord }) {
  const files = useAppStore((s) => s.runFiles[record.id]);
  const stopping = useAppStore((s) => Boolean(s.stopping[record.id]));
  const pausing = useAppStore((s) => Boolean(s.pausing[record.id]));
  const stopRun = useAppStore((s) => s.stopRun);
  const pauseRun = useAppStore((s) => s.pauseRun);
  const resumeRun = useAppStore((s) => s.resumeRun);
  const resumeInterrupted = useAppStore((s) => s.resumeInterrupted);
  const checkpointProblem = useAppStore((s) => s.checkpointProblems[record.id]);
  const step = lastProgress(record)?.step ?? 0;
  const headingId = `run-${record.id}-heading`;
  const outputBytes = record.outputs.reduce((n, o) => n + o.bytes, 0);

  return (
    <article
      className="run-card"
      data-testid="run-card"
      data-run-id={record.id}
      data-status={record.status}
      aria-labelledby={headingId}
      style={{ borderTopColor: record.color }}
    >
      <header className="run-card-header">
        <span className="legend-swatch" style={{ background: record.color }} aria-hidden="true" />
        <h3 id={headingId}>{record.label}</h3>
        <span className={`status status-${record.status}`} data-testid="run-status">
          {stopping && isActive(record.status)
            ? 'Stopping…'
            : pausing && record.status === 'running'
              ? 'Pausing…'
              : statusText[record.status]}
        </span>
      </header>
      <p className="muted run-method">{methodSummary(record)}</p>
      <div className="run-progress">
        <progress
          max={Math.max(1, record.totalSteps)}
          value={step}
          aria-label={`${record.label} progress`}
          data-testid="run-progress"
        />
        <span>
          {step} / {record.totalSteps} steps
        </span>
      </div>
      {record.preparing && isActive(record.status) && <ReferencePass {...record.preparing} />}
      {record.earlyStopping && <EarlyStoppingNote record={record} step={step} />}
      {record.error && (
        <div className="run-error" role="alert" data-testid="run-error">
          <strong data-testid="run-error-name">{record.error.name}</strong>:{' '}
          <span data-testid="run-error-message">{record.error.message}</span>
        </div>
      )}
      {checkpointProblem && (
        <p className="field-error" role="alert" data-testid="checkpoint-problem">
          The latest checkpoint could not be kept in this browser (an earlier one, if any, still is):{' '}
          {checkpointProblem}
        </p>
      )}
      <div className="run-actions">
        {record.status === 'running' && (
          <button
            type="button"
            data-testid="pause-run"
            onClick={() => void pauseRun(record.id)}
            disabled={pausing}
            title="Pauses after the step in progress"
          >
            Pause
          </button>
        )}
        {record.status === 'paused' && (
          <button type="button" data-testid="resume-run" onClick={() => void resumeRun(record.id)}>
            Resume
          </button>
        )}
        {record.status === 'interrupted' && (
          <button
            type="button"
            data-testid="resume-interrupted"
            onClick={() => void resumeInterrupted(record.id)}
          >
            {record.checkpointStep ? `Resume from step ${record.checkpointStep}` : 'Start again'}
          </button>
        )}
        {isActive(record.status) && (
          <button
            type="button"
            data-testid="stop-run"
            onClick={() => void stopRun(record.id)}
            disabled={stopping}
          >
            Stop
          </button>
        )}
        {files && (
          <button
            type="button"
            className="primary"
            data-testid="download-run"
            onClick={() => downloadRun(record, files)}
            title={record.outputs.map((o) => `${o.name} (${formatBytes(o.bytes)})`).join('\n')}
          >
            Download {record.settings.method.method === 'full' ? 'model' : 'adapter'} (.tar,{' '}
            {formatBytes(outputBytes)})
          </button>
        )}
      </div>
      <MetricsTable record={record} />
      <ClassificationMetrics record={record} />
    </article>
  );
}

/** Where early stopping stands: the best validation loss and its step, and whether the run stopped there. */
function EarlyStoppingNote({ record, step }: { record: RunRecord; step: number }) {
  const verdict = record.earlyStopping;
  if (!verdict) return null;
  const best = `best validation loss ${verdict.bestLoss.toFixed(4)} at step ${verdict.bestStep}`;
  return (
    <p className="muted" data-testid="early-stopping" data-stopped={verdict.stop}>
      {verdict.stop
        ? `Stopped early at step ${step}: ${record.settings.train.earlyStoppingPatience} evaluations without a lower loss. The run keeps step ${verdict.bestStep}'s weights (${best}).`
        : `Early stopping: ${best}${record.status === 'finished' ? `; the run keeps step ${verdict.bestStep}'s weights` : ''}.`}
    </p>
  );
}

/**
 * A DPO run's reference pass before its first step: every pair scored once by the base model, which on
 * a large dataset takes a while, so its progress shows (the worker's counts).
 */
function ReferencePass({ done, total }: { done: number; total: number }) {
  return (
    <div className="run-progress" data-testid="reference-pass" data-done={done} data-total={total}>
      <progress max={Math.max(1, total)} value={done} aria-label="Reference pass" />
      <span>
        Scoring the base model as DPO's reference: {done.toLocaleString('en-US')} of{' '}
        {total.toLocaleString('en-US')} pairs
      </span>
    </div>
  );
}
