/**
 * The app shell: the header, the studio, and the GPU adapter panel beside the run setup.
 */
import { AdapterPanel } from './screens/adapter/AdapterPanel';
import { StudioScreen } from './screens/studio/StudioScreen';

export function App() {
  return (
    <>
      <header className="app-header">
        <h1>
          Whetstone <span className="tagline">— fine-tune models in your browser</span>
        </h1>
      </header>
      <main className="app-main">
        <StudioScreen />
        <aside className="gpu-side" aria-label="GPU">
          <AdapterPanel />
        </aside>
      </main>
    </>
  );
}
