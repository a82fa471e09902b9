/**
 * The app shell: the header and the screens as tabs (studio, playground, adapters). Every screen stays
 * mounted and hidden screens are only hidden, so switching tabs during training is instant and no
 * chart or stream restarts. Without WebGPU the explanation page leads; the rest still opens.
 */
import { useState } from 'react';
import { AdapterPanel } from './screens/adapter/AdapterPanel';
import { WebGpuError } from './screens/adapter/WebGpuError';
import { AdapterLibraryScreen } from './screens/adapters/AdapterLibraryScreen';
import { PlaygroundScreen } from './screens/playground/PlaygroundScreen';
import { StudioScreen } from './screens/studio/StudioScreen';
import { useAppStore } from './state/store';

const tabs = [
  ['studio', 'Studio'],
  ['playground', 'Playground'],
  ['adapters', 'Adapters'],
] as const;

type Tab = (typeof tabs)[number][0];

export function App() {
  const [tab, setTab] = useState<Tab>('studio');
  const gpu = useAppStore((s) => s.gpu);
  return (
    <>
      <header className="app-header">
        <h1>
          Whetstone <span className="tagline">— fine-tune models in your browser</span>
        </h1>
        <div className="app-tabs" role="tablist" aria-label="Screens">
          {tabs.map(([id, label]) => (
            <button
              key={id}
              type="button"
              role="tab"
              id={`tab-${id}`}
              aria-selected={tab === id}
              aria-controls={`screen-${id}`}
              data-testid={`tab-${id}`}
              className={tab === id ? 'tab active' : 'tab'}
              // Roving focus, as WAI-ARIA's tabs pattern has it: Tab enters the list, arrows move in it.
              tabIndex={tab === id ? 0 : -1}
              onClick={() => setTab(id)}
              onKeyDown={(event) => {
                const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
                if (step === 0) return;
                const index = tabs.findIndex(([t]) => t === id);
                const next = tabs[(index + step + tabs.length) % tabs.length]?.[0] ?? id;
                setTab(next);
                document.getElementById(`tab-${next}`)?.focus();
              }}
            >
              {label}
            </button>
          ))}
        </div>
      </header>
      {gpu.status === 'unavailable' && (
        <div className="app-notice">
          <WebGpuError error={gpu.error} />
        </div>
      )}
      <main
        className="app-main"
        id="screen-studio"
        role="tabpanel"
        aria-labelledby="tab-studio"
        hidden={tab !== 'studio'}
      >
        <StudioScreen />
        <aside className="gpu-side" aria-label="GPU">
          <AdapterPanel />
        </aside>
      </main>
      <main
        className="app-screen"
        id="screen-playground"
        role="tabpanel"
        aria-labelledby="tab-playground"
        hidden={tab !== 'playground'}
      >
        <PlaygroundScreen />
      </main>
      <main
        className="app-screen"
        id="screen-adapters"
        role="tabpanel"
        aria-labelledby="tab-adapters"
        hidden={tab !== 'adapters'}
      >
        <AdapterLibraryScreen />
      </main>
    </>
  );
}
