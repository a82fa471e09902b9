/**
 * The catalogue's memory plans, made a few rows per task: planning every model for every method is the
 * page's heaviest work (about 20 models × 7 methods), and done in one go it held the main thread for
 * ~200 ms at start-up. Rows come in as they are planned; the rest show as pending. Plans are kept per
 * estimate key (estimateKey), so a change of anything else (a learning rate, the GPU's limits) re-plans
 * nothing; the fits against the limits are recomputed on each render, which is cheap.
 */
import { useEffect, useState } from 'react';
import type { EncoderConfig } from '../../../train/models/bert-config';
import type { DecoderConfig } from '../../../train/models/config';
import {
  estimateKey,
  type MethodEstimateError,
  type MethodPlanned,
  planAllMethods,
} from '../../models/model-estimates';
import type { RunSetup } from '../../state/run-setup';

export interface PlannedModel {
  id: string;
  config: DecoderConfig | EncoderConfig;
}

type RowPlans = (MethodPlanned | MethodEstimateError)[];

/** How long one task may plan rows before it yields to the page. */
const sliceMs = 20;

/** The current key's plans, by model id (module-wide: the table remounts with the setup panel). */
let planned: { key: string; rows: Map<string, RowPlans> } = { key: '', rows: new Map() };

export function useCataloguePlans(
  models: readonly PlannedModel[],
  setup: RunSetup,
  /** Plan decoders' DPO runs (two rows a pair). */
  dpo: boolean,
): Map<string, RowPlans> {
  const key = estimateKey(setup, dpo);
  if (planned.key !== key) planned = { key, rows: new Map() };
  const [, setVersion] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` names everything planning reads of setup; the models are fixed.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const plan = () => {
      const start = performance.now();
      for (const model of models) {
        if (planned.key !== key) return;
        if (planned.rows.has(model.id)) continue;
        planned.rows.set(model.id, planAllMethods(model.config, setup, dpo));
        if (performance.now() - start > sliceMs) break;
      }
      setVersion((v) => v + 1);
      if (models.some((m) => !planned.rows.has(m.id))) timer = setTimeout(plan, 0);
    };
    timer = setTimeout(plan, 0);
    return () => clearTimeout(timer);
  }, [key]);
  return planned.rows;
}
