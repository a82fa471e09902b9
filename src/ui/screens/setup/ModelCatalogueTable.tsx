/**
 * The curated models (and the built-in one) side by side: parameters, download size and, for each
 * method, the planner's memory estimate at the current batch size and sequence length, marked as
 * fitting this GPU's limits and the memory budget or not. Every number here is an estimate and says so.
 * Encoders (classifiers) are planned as their classification runs train (the config's classes). Rows
 * are planned a few per task (use-catalogue-plans.ts) and show as pending until then. With DPO chosen on a
 * preference dataset, language models are planned as DPO runs: two rows (chosen, rejected) per pair.
 */
import type { EncoderConfig } from '../../../train/models/bert-config';
import type { DecoderConfig } from '../../../train/models/config';
import { formatBytes, type MemoryLimits, type MethodName } from '../../../train/plan/index';
import { curatedModels } from '../../models/curated-models';
import { builtinTinyBert, builtinTinyLlama, configOf, encoderConfigOf } from '../../models/model-catalogue';
import {
  configParameters,
  curatedConfig,
  downloadEstimateBytes,
  encoderParameters,
  formatCount,
  type MethodEstimate,
  type MethodEstimateError,
  modelParameters,
  withFits,
} from '../../models/model-estimates';
import { trainingDataOf } from '../../state/dataset-slice';
import { dpoChosen } from '../../state/preference-setup';
import { useAppStore } from '../../state/store';
import { useCataloguePlans } from './use-catalogue-plans';

export const methodColumns: [MethodName, string][] = [
  ['full', 'Full'],
  ['lora', 'LoRA'],
  ['dora', 'DoRA'],
  ['ia3', 'IA3'],
  ['prefix', 'Prefix'],
  ['prompt', 'Prompt'],
  ['adapter', 'Adapters'],
];

interface Row {
  id: string;
  label: string;
  parameters: number;
  download: string;
  task: 'causal-lm' | 'classification';
  config: DecoderConfig | EncoderConfig;
}

/** The rows, each model's config parsed and counted once: the count feeds the download estimate too. */
const rows: Row[] = (() => {
  const builtin = configOf(builtinTinyLlama);
  const builtinBert = encoderConfigOf(builtinTinyBert);
  return [
    {
      id: builtinTinyLlama.id,
      label: 'Built-in tiny Llama (offline)',
      parameters: modelParameters(builtin),
      download: 'none (built in)',
      task: 'causal-lm',
      config: builtin,
    },
    {
      id: builtinTinyBert.id,
      label: 'Built-in tiny BERT classifier (offline)',
      parameters: encoderParameters(builtinBert),
      download: 'none (built in)',
      task: 'classification',
      config: builtinBert,
    },
    ...curatedModels.map((m): Row => {
      const config = curatedConfig(m);
      const parameters = configParameters(config);
      const classifier = m.task === 'classification';
      return {
        id: m.repo,
        label: classifier ? `${m.label} (classifier)` : m.label,
        parameters,
        download: `${formatBytes(downloadEstimateBytes(m, parameters))} (estimate, ${m.dtype} weights)`,
        task: classifier ? 'classification' : 'causal-lm',
        config,
      };
    }),
  ];
})();

function PendingCell({ method }: { method: MethodName }) {
  return (
    <td data-testid={`estimate-${method}`} data-fits="pending" title="Planning…">
      …
    </td>
  );
}

function FitCell({ estimate }: { estimate: MethodEstimate | MethodEstimateError }) {
  if ('error' in estimate)
    return (
      <td data-testid={`estimate-${estimate.method}`} data-fits="unknown" title={estimate.error}>
        n/a
      </td>
    );
  const fits = estimate.fit.fits;
  const why = fits ? 'fits' : `does not fit: ${estimate.fit.problems.join('; ')}`;
  return (
    <td
      className={fits ? 'fit-yes' : 'fit-no'}
      data-testid={`estimate-${estimate.method}`}
      data-fits={fits}
      title={`Estimate: ${formatBytes(estimate.plan.totalBytes)}; ${why}`}
    >
      {formatBytes(estimate.plan.totalBytes)} <span aria-hidden="true">{fits ? '✓' : '✗'}</span>
      <span className="visually-hidden">{fits ? 'fits' : 'does not fit'}</span>
    </td>
  );
}

export function ModelCatalogueTable({ limits }: { limits: MemoryLimits }) {
  const setup = useAppStore((s) => s.setup);
  const loadedIds = useAppStore((s) => s.models.loadedIds);
  const download = useAppStore((s) => s.models.download);
  const { downloadHubModel, setModel } = useAppStore.getState();
  const dpo = useAppStore((s) => dpoChosen(s.setup, trainingDataOf(s.dataset)));
  const plans = useCataloguePlans(rows, setup, dpo);
  const busy = download?.status === 'listing' || download?.status === 'downloading';
  return (
    <div className="catalogue-scroll">
      <table className="model-catalogue" data-testid="model-catalogue">
        <caption>
          Models. Memory is the planner's estimate at batch {setup.fields.batchSize}, sequence{' '}
          {setup.fields.seqLen}
          {setup.quantizeBase ? ', the PEFT methods on a 4-bit NF4 base' : ''}
          {dpo ? ', language models as DPO runs (a chosen and a rejected row per pair)' : ''} (✓ fits this
          GPU's limits and the budget, ✗ does not).
        </caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Parameters</th>
            <th scope="col">Download</th>
            {methodColumns.map(([method, label]) => (
              <th scope="col" key={method}>
                {label} <small className="muted">est.</small>
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const planned = plans.get(row.id);
            const ready =
              row.id === builtinTinyLlama.id || row.id === builtinTinyBert.id || loadedIds.includes(row.id);
            return (
              <tr key={row.id} data-testid="catalogue-row" data-model-id={row.id} data-task={row.task}>
                <th scope="row">{row.label}</th>
                <td data-testid="model-parameters">{formatCount(row.parameters)}</td>
                <td>{row.download}</td>
                {planned
                  ? withFits(planned, limits).map((e) => <FitCell key={e.method} estimate={e} />)
                  : methodColumns.map(([method]) => <PendingCell key={method} method={method} />)}
                <td>
                  {ready ? (
                    <button type="button" onClick={() => setModel(row.id)} aria-label={`Use ${row.label}`}>
                      Use
                    </button>
                  ) : (
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => void downloadHubModel(row.id)}
                      aria-label={`Download ${row.label}`}
                    >
                      Download
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
