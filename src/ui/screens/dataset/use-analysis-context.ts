/** The analysis context for the studio's current model and sequence length (see analysis-context.ts). */
import { useMemo } from 'react';
import type { AnalysisContext } from '../../state/dataset-slice';
import { useAppStore } from '../../state/store';
import { analysisContextFor } from './analysis-context';

export function useAnalysisContext(): AnalysisContext {
  const modelId = useAppStore((s) => s.setup.modelId);
  const seqLen = useAppStore((s) => s.setup.fields.seqLen);
  const maskPrompt = useAppStore((s) => s.setup.maskPrompt);
  return useMemo(
    () => ({ ...analysisContextFor(modelId, seqLen), maskPrompt }),
    [modelId, seqLen, maskPrompt],
  );
}
