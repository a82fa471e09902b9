/**
 * The browser entry: mounts the app into `#root` and starts the GPU probe.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { useAppStore } from './state/store';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element to mount Whetstone into.');

// Started here rather than in an effect: StrictMode runs effects twice, which would open two devices.
void useAppStore.getState().probeGpu();

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
