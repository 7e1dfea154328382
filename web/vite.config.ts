import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { bundleBudget } from './bundle-budget.ts'

// In development the API (uvicorn on :8000 by default) is proxied, so `npm run dev` works beside it.
const apiTarget = process.env.AVOCET_API_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue(), bundleBudget()], // the build fails past the budget (bundle-budget.ts)
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: { '/api': { target: apiTarget, changeOrigin: true } },
  },
  build: {
    chunkSizeWarningLimit: 200, // kB before gzip: Chart.js (~175) is the largest chunk, loaded by pages with charts
  },
})
