/**
 * Vite for the app: React, the dev server on 5173. `npm start` adds `--open`; it is not set here,
 * so the Playwright web server (which runs Vite on 4173) does not open a browser too.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  server: { port: 5173 },
  // Pre-bundled up front: the worker discovers them only when it first loads, and discovering a
  // dependency mid-session makes Vite reload the page.
  optimizeDeps: {
    include: [
      '@huggingface/tokenizers',
      '@huggingface/jinja',
      '@huggingface/hub',
      'idb-keyval',
      'papaparse',
      'hyparquet',
      'uplot',
      'fflate',
    ],
  },
});
