/**
 * Rows per evaluation batch: HF's `per_device_eval_batch_size` default of 8, or the training batch when
 * it is smaller. The evaluation step keeps its own activations beside the training step's, so a large
 * training batch would otherwise double the activation memory for no gain: the scores are per row, the
 * same at any evaluation batch size.
 */
export const evalBatchSize = (trainBatch: number): number => Math.min(trainBatch, 8);
