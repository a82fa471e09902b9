/**
 * The chosen method's memory plan, by component, with the trainable-parameter count, recomputed as the
 * settings change. It is the planner's estimate (the run's peak is measured once it trains), checked
 * against this GPU's per-buffer limits and the memory budget; when it does not fit it says why and
 * what to change, and the start buttons refuse the run. A DPO run is planned at twice the batch (a chosen
 * and a rejected row per pair), and says so.
 */
import { formatBytes, type MemoryComponent } from '../../../train/plan/index';
import type { LimitsInUse, MethodEstimate } from '../../models/model-estimates';

const componentLabels: Record<MemoryComponent, string> = {
  weights: 'Model weights',
  adapter: 'Method parameters',
  gradients: 'Gradients',
  optimizer: 'Optimizer state',
  activations: 'Activations',
  logits: 'Logits',
  workspace: 'Workspace',
};

export function MemoryPlanView({
  estimate,
  limits,
  dpo = false,
}: {
  estimate: MethodEstimate;
  limits: LimitsInUse;
  /** The plan is a DPO run's, at two rows per pair. */
  dpo?: boolean;
}) {
  const { plan, fit } = estimate;
  const { total, trainable } = plan.parameters;
  return (
    <div className="memory-plan" data-testid="memory-plan" data-fits={fit.fits}>
      <p>
        Trainable parameters:{' '}
        <strong data-testid="trainable-parameters">{trainable.toLocaleString('en-US')}</strong> of{' '}
        {total.toLocaleString('en-US')} ({((100 * trainable) / total).toPrecision(3)}%)
      </p>
      {dpo && (
        <p className="muted" data-testid="plan-dpo-rows">
          DPO: each step holds a chosen and a rejected row for every pair of the batch, so the plan counts
          twice the batch's rows.
        </p>
      )}
      <table className="limits">
        <caption>Memory plan (estimate)</caption>
        <tbody>
          {Object.entries(plan.components)
            .filter(([, bytes]) => bytes > 0)
            .map(([component, bytes]) => (
              <tr key={component} data-testid={`plan-${component}`}>
                <th scope="row">
                  {componentLabels[component as MemoryComponent]}
                  {component === 'weights' && plan.quantizedWeights && (
                    <span className="muted" data-testid="plan-nf4-weights">
                      {' '}
                      (layer matrices 4-bit NF4, 4.5 bits a weight)
                    </span>
                  )}
                  {component === 'weights' && plan.halfWeights && (
                    <span className="muted" data-testid="plan-half-weights">
                      {' '}
                      ({plan.quantizedWeights ? 'embeddings' : 'frozen matrices'} kept 16-bit, as stored)
                    </span>
                  )}
                </th>
                <td>{formatBytes(bytes)}</td>
              </tr>
            ))}
          <tr>
            <th scope="row">Total (estimate)</th>
            <td data-testid="plan-total">{formatBytes(plan.totalBytes)}</td>
          </tr>
          <tr>
            <th scope="row">Largest buffer</th>
            <td>
              {plan.largestBuffer.label}, {formatBytes(plan.largestBuffer.bytes)}
            </td>
          </tr>
        </tbody>
      </table>
      <p className="muted">
        Against {limits.source === 'adapter' ? "this GPU's" : "WebGPU's default (no adapter yet)"} per-buffer
        limit of {formatBytes(Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize))} and a
        budget of {formatBytes(limits.memoryBudgetBytes ?? 0)}:{' '}
        <strong data-testid="plan-fit">{fit.fits ? 'fits ✓' : 'does not fit ✗'}</strong>
      </p>
      {!fit.fits && (
        <p className="field-error" data-testid="plan-problem">
          It {fit.problems.join('; and ')}. To fit, {fit.advice.join('; ')}.
        </p>
      )}
    </div>
  );
}

/** The refusal shown when a start is pressed on a plan that does not fit. */
export function refusalOf(label: string, estimate: MethodEstimate): string | null {
  if (estimate.fit.fits) return null;
  return `The ${label} run will not fit, so it was not started: it ${estimate.fit.problems.join('; and ')}. To fit, ${estimate.fit.advice.join('; ')}.`;
}
