import { defineConfig } from 'vite';

/** The console is served by the service at /admin/ (gateways/http/console.routes.ts registerConsolePage). */
export default defineConfig({
  base: '/admin/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 800 },
  server: { proxy: { '/admin/api': 'http://127.0.0.1:8080', '/socket.io': { target: 'ws://127.0.0.1:8080', ws: true } } },
});
