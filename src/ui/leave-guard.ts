/**
 * Asks before the tab closes or reloads while a run is training: closing it ends the worker and the run.
 */
import { isActive } from './state/run-record';
import { useAppStore } from './state/store';

export function guardLeavingDuringRuns(): void {
  window.addEventListener('beforeunload', (event) => {
    const runs = Object.values(useAppStore.getState().runs);
    if (runs.some((run) => isActive(run.status))) event.preventDefault();
  });
}
