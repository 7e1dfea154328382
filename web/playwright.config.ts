import { defineConfig } from '@playwright/test'

/**
 * End-to-end tests in Debian's headless Chromium (no browser download) against a running Avocet stack.
 * AVOCET_E2E_BASE_URL: the API serving web/dist (tests/e2e/test_web_e2e.py starts the real stack and sets it).
 */
export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  timeout: Number(process.env.AVOCET_E2E_TIMEOUT_MS ?? 12 * 60_000), // per test; the file runs in order (serial)
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.AVOCET_E2E_BASE_URL ?? 'http://127.0.0.1:8000',
    viewport: { width: 1440, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
})
