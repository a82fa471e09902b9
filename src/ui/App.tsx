/**
 * The app shell: the header and the current screen. For now the only screen is the GPU adapter.
 */
import { AdapterPanel } from './screens/adapter/AdapterPanel';

export function App() {
  return (
    <>
      <header className="app-header">
        <h1>
          Whetstone <span className="tagline">— fine-tune models in your browser</span>
        </h1>
      </header>
      <main className="app-main">
        <AdapterPanel />
      </main>
    </>
  );
}
