/**
 * Asks before the tab closes or reloads while a run is training or paused: closing it ends the worker
 * and the run. (Browsers show their own wording; the returnValue is for older ones.) Ended runs are
 * already in IndexedDB and need no warning.
 */
import { isActive } from './state/run-record';
import { useAppStore } from './state/store';

export function guardLeavingDuringRuns(): void {
  window.addEventListener('beforeunload', (event) => {
    const runs = Object.values(useAppStore.getState().runs);
    if (runs.some((run) => isActive(run.status))) {
      event.preventDefault();
      event.returnValue = 'Runs are still training; leaving ends them.';
    }
  });
}
