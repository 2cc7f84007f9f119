import { defineConfig } from 'vite';

export default defineConfig({
  build: { outDir: 'dist', assetsDir: 'assets', target: 'es2022', chunkSizeWarningLimit: 200 },
  // `npm run dev -w @ecs-trace/ui` against an agent on the default port.
  server: { proxy: { '/api': 'http://127.0.0.1:8127' } },
});
