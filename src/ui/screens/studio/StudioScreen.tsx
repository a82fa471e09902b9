/**
 * The studio: set up runs on the left (dataset, model, method, settings), watch them on the right
 * (live comparison), and find past comparisons below. Training happens in the worker; this screen only
 * sends plans and draws events.
 */
import { ComparePanel } from '../compare/ComparePanel';
import { DatasetPanel } from '../dataset/DatasetPanel';
import { HistoryPanel } from '../history/HistoryPanel';
import { RunSetupPanel } from '../setup/RunSetupPanel';
import './studio-results.css';

export function StudioScreen() {
  return (
    <div className="studio" data-testid="studio">
      <div className="studio-setup">
        <DatasetPanel />
        <RunSetupPanel />
      </div>
      <div className="studio-results">
        <ComparePanel />
        <HistoryPanel />
      </div>
    </div>
  );
}
