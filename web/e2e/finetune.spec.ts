import { fileURLToPath } from 'node:url'
import { expect, test, type Page } from '@playwright/test'

// Minutes, not seconds: on the real stack this trains MiniLM for one epoch on CPU.
const SLOW = Number(process.env.AVOCET_E2E_STEP_TIMEOUT_MS ?? 8 * 60_000)
const ARTIFACTS = process.env.AVOCET_E2E_ARTIFACTS ?? fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

const jobLog = (page: Page) => page.getByTestId('job-detail').getByTestId('log-line')

test('start a fine-tune, follow it across a reload, and see the new model', async ({ page }) => {
  const name = `e2e-${Date.now()}`
  await page.goto('/')
  await expect(page.getByRole('heading', { name: 'Avocet' })).toBeVisible()
  await expect(page.getByTestId('health')).not.toHaveText('Connecting…')

  const toggle = page.getByTestId('finetune-toggle')
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()

  // Invalid epochs are explained in place and keep Run disabled.
  const epochs = page.getByTestId('epochs')
  await epochs.fill('0')
  await expect(page.getByTestId('epochs-problem')).toContainText('from 1 to 20')
  await expect(page.getByTestId('run-finetune')).toBeDisabled()

  await page.getByTestId('model-select').selectOption('minilm')
  await epochs.fill('1')
  await page.getByLabel('Name (optional)').fill(name)
  await page.getByTestId('run-finetune').click()
  await expect(page.getByTestId('start-error')).toHaveCount(0)

  // The job's log streams in under its progress bar; once a worker has started it, reload (the model is loading).
  const row = page.getByTestId('job-row').filter({ hasText: name })
  await expect(row).toBeVisible()
  await expect(jobLog(page).first()).toContainText('queued')
  await expect(page.getByTestId('job-detail').getByTestId('progress')).toBeVisible()
  await expect(row).not.toHaveAttribute('data-state', 'queued', { timeout: SLOW })
  await expect.poll(async () => jobLog(page).count()).toBeGreaterThan(1)
  const runningAtReload = (await row.getAttribute('data-state')) === 'running'
  const before = await jobLog(page).allTextContents()

  // After the reload the job is found again, its log restored from the first event and followed live.
  await page.reload()
  await expect(row).toHaveAttribute('aria-pressed', 'true')
  await expect.poll(async () => jobLog(page).count()).toBeGreaterThanOrEqual(before.length)
  expect((await jobLog(page).allTextContents()).slice(0, before.length)).toEqual(before)
  if (runningAtReload) {
    await expect.poll(async () => jobLog(page).count(), { timeout: SLOW }).toBeGreaterThan(before.length)
  }
  await expect(page.getByTestId('progress-steps')).toBeVisible({ timeout: SLOW })
  await expect(page.getByTestId('progress-caption')).toHaveText(/\d+%|Finished/)

  // Completion: the log ends with `complete`, the badge appears, the benchmark runs and the charts come back.
  await expect(jobLog(page).last()).toContainText('complete', { timeout: SLOW })
  await expect(page.getByTestId('job-failure')).toHaveCount(0)
  await expect(page.getByTestId('trained-badge').filter({ hasText: name })).toBeVisible({ timeout: 60_000 })
  await expect(page.getByTestId('run-benchmark')).toHaveText('Run benchmark', { timeout: SLOW })
  await expect(page.getByTestId('bench-error')).toHaveCount(0)
  await expect(page.getByTestId('chart-macro-f1')).toBeVisible()
  await page.screenshot({ path: `${ARTIFACTS}/web-e2e-finished.png`, fullPage: true })
})
