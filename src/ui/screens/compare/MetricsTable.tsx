/**
 * One run's latest metrics, as the worker measured them at its last step. Each value is a `<data>`
 * element holding the raw number, so what is shown can be checked against what was measured. The ETA
 * is the only derived number, and it says so. GPU memory is the worker's allocator total: every run in
 * the worker shares one device and one arena, so it is not split per run, and the label says so. A DPO
 * run's loss is the DPO loss (log 2 at the start), and its latest reward accuracy and margin show too.
 */
import type { ReactNode } from 'react';
import { isActive, lastProgress, type RunRecord } from '../../state/run-record';
import { formatScore } from './ClassificationScores';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatGradNorm,
  formatLearningRate,
  formatLoss,
  formatPercent,
  formatRate,
  formatStepTime,
} from './format-metric';
import { latestRewards } from './preference-chart-data';

function Row({
  name,
  label,
  value,
  children,
}: {
  name: string;
  label: string;
  value?: number;
  children: ReactNode;
}) {
  return (
    <tr data-testid={`metric-${name}`}>
      <th scope="row">{label}</th>
      <td>{value === undefined ? children : <data value={value}>{children}</data>}</td>
    </tr>
  );
}

/** Remaining steps at the mean measured step time so far. */
export function etaMs(record: RunRecord): number | null {
  const last = lastProgress(record);
  if (!last || last.step >= record.totalSteps) return null;
  return (last.elapsedMs / last.step) * (record.totalSteps - last.step);
}

export function MetricsTable({ record }: { record: RunRecord }) {
  const p = lastProgress(record);
  const lastEval = record.evals[record.evals.length - 1];
  const eta = isActive(record.status) ? etaMs(record) : null;
  const none = <span className="muted">—</span>;
  const rewards = latestRewards(record);
  const dpo = Boolean(record.settings.train.preference || rewards.train);
  return (
    <table className="metrics" aria-label={`${record.label} metrics`}>
      <tbody>
        <Row name="step" label="Step">
          {p ? `${p.step} / ${p.totalSteps}` : `0 / ${record.totalSteps}`}
        </Row>
        <tr data-testid="metric-loss" data-loss={p?.loss ?? ''}>
          <th scope="row">Training loss{dpo ? ' (DPO)' : ''}</th>
          <td>{p ? <data value={p.loss}>{formatLoss(p.loss)}</data> : none}</td>
        </tr>
        <tr data-testid="metric-val-loss" data-loss={lastEval?.loss ?? ''}>
          <th scope="row">Validation loss</th>
          <td>
            {lastEval ? (
              <>
                <data value={lastEval.loss}>{formatLoss(lastEval.loss)}</data>{' '}
                <span className="muted">at step {lastEval.step}</span>
              </>
            ) : (
              none
            )}
          </td>
        </tr>
        {dpo && (
          <>
            <RewardRow
              name="reward-accuracy"
              label="Reward accuracy"
              train={rewards.train?.rewardAccuracy}
              validation={rewards.validation?.rewardAccuracy}
              format={formatScore}
            />
            <RewardRow
              name="reward-margin"
              label="Reward margin"
              train={rewards.train?.rewardMargin}
              validation={rewards.validation?.rewardMargin}
              format={(v) => v.toFixed(4)}
            />
          </>
        )}
        <Row name="lr" label="Learning rate" value={p?.lr}>
          {p ? formatLearningRate(p.lr) : none}
        </Row>
        <Row name="grad-norm" label="Gradient norm" value={p?.gradNorm}>
          {p ? formatGradNorm(p.gradNorm) : none}
        </Row>
        <Row name="tokens-per-second" label="Tokens / s" value={p?.tokensPerSecond}>
          {p ? formatRate(p.tokensPerSecond) : none}
        </Row>
        <Row name="step-time" label="Step time" value={p?.stepTimeMs}>
          {p ? formatStepTime(p.stepTimeMs) : none}
        </Row>
        <Row name="gpu-bytes" label="GPU memory now (worker)" value={p?.gpuBytes}>
          {p ? formatBytes(p.gpuBytes) : none}
        </Row>
        <Row name="peak-gpu-bytes" label="GPU memory peak (worker)" value={p?.peakGpuBytes}>
          {p ? formatBytes(p.peakGpuBytes) : none}
        </Row>
        <Row name="trainable" label="Trainable parameters" value={record.trainableParams || undefined}>
          {record.totalParams > 0 ? (
            <>
              {formatCount(record.trainableParams)} of {formatCount(record.totalParams)} (
              {formatPercent(record.trainableParams, record.totalParams)})
            </>
          ) : (
            none
          )}
        </Row>
        <Row name="elapsed" label="Elapsed" value={p?.elapsedMs}>
          {p ? formatDuration(p.elapsedMs) : none}
        </Row>
        {eta !== null && (
          <Row name="eta" label="Time left (estimate)" value={eta}>
            ~{formatDuration(eta)}
          </Row>
        )}
      </tbody>
    </table>
  );
}

/** A DPO reward at the last step, and on the validation pairs at the last evaluation. */
function RewardRow({
  name,
  label,
  train,
  validation,
  format,
}: {
  name: string;
  label: string;
  train?: number;
  validation?: number;
  format: (v: number) => string;
}) {
  return (
    <tr data-testid={`metric-${name}`} data-train={train ?? ''} data-validation={validation ?? ''}>
      <th scope="row">{label}</th>
      <td>
        {train === undefined ? <span className="muted">—</span> : <data value={train}>{format(train)}</data>}
        {validation !== undefined && (
          <>
            {' '}
            <span className="muted">
              (validation <data value={validation}>{format(validation)}</data>)
            </span>
          </>
        )}
      </td>
    </tr>
  );
}
