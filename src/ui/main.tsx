/**
 * The browser entry: mounts the app into `#root`, starts the GPU probe and reads the past runs.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { guardLeavingDuringRuns } from './leave-guard';
import { useAppStore } from './state/store';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element to mount Whetstone into.');

// Started here rather than in an effect: StrictMode runs effects twice, which would open two devices.
void useAppStore.getState().probeGpu();
void useAppStore.getState().loadHistory();
void useAppStore.getState().loadAdapters();
guardLeavingDuringRuns();

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
