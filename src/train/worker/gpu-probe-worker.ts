/**
 * The GPU probe, run in a worker: the adapter report (or the named error) for the adapter screen and the
 * memory estimates. Probing here keeps the page itself free of src/gpu, as the trainer's worker does.
 */
import { probeGpu } from '../gpu-info';

self.addEventListener('message', () => {
  void probeGpu().then((result) => (self as unknown as Worker).postMessage(result));
});
