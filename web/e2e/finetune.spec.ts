import { fileURLToPath } from 'node:url'
import { expect, test, type Page } from '@playwright/test'

// Minutes, not seconds: on the real stack this trains MiniLM for one epoch on CPU.
const SLOW = Number(process.env.AVOCET_E2E_STEP_TIMEOUT_MS ?? 8 * 60_000)
const ARTIFACTS = process.env.AVOCET_E2E_ARTIFACTS ?? fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

const jobLog = (page: Page) => page.getByTestId('job-detail').getByTestId('log-line')

interface JobRecord { id: string; name: string | null; source: string; submitted_at: string }

/** The benchmark the worker queued after the named fine-tune (none runs beside the e2e's own jobs), or null. */
async function benchmarkQueuedAfter(page: Page, name: string): Promise<string | null> {
  const list = async (kind: string) => (await (await page.request.get(`/api/jobs?kind=${kind}&limit=50`)).json()) as JobRecord[]
  const finetune = (await list('finetune')).find((j) => j.name === name)
  if (!finetune) return null
  const after = (j: JobRecord) => j.source === 'worker' && Date.parse(j.submitted_at) > Date.parse(finetune.submitted_at)
  return (await list('benchmark')).find(after)?.id ?? null
}

test('start a fine-tune, follow it across a reload, and see the new model benchmarked by the worker', async ({ page }) => {
  const name = `e2e-${Date.now()}`
  const sent: string[] = [] // what the page asks the API to do: only the one fine-tune, never a benchmark
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname
    if (r.method() !== 'GET' || path.startsWith('/api/benchmark/run')) sent.push(`${r.method()} ${path}`)
  })
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
  // So is a name the server's pattern refuses (upper case, "."): the browser applies the API's own rule.
  await page.getByLabel('Name (optional)').fill('E2E.run')
  await expect(page.getByTestId('run-finetune')).toBeDisabled()
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

  // Completion: the log ends with `complete` and the badge appears.
  await expect(jobLog(page).last()).toContainText('complete', { timeout: SLOW })
  await expect(page.getByTestId('job-failure')).toHaveCount(0)
  await expect(page.getByTestId('trained-badge').filter({ hasText: name })).toBeVisible({ timeout: 60_000 })

  // The worker, not the page, queues a benchmark after the fine-tune; the page follows it under the charts and
  // reloads them when it ends, with the new model among the scored classifiers.
  await expect.poll(() => benchmarkQueuedAfter(page, name), { timeout: 60_000 }).not.toBeNull()
  const benchJob = page.getByTestId('bench-job')
  await expect(benchJob).toHaveAttribute('data-job-id', (await benchmarkQueuedAfter(page, name))!, { timeout: 15_000 })
  await expect(benchJob).toHaveAttribute('data-state', 'succeeded', { timeout: SLOW })
  await expect(benchJob.getByTestId('log-line').last()).toContainText('complete')
  await expect(page.getByTestId('run-benchmark')).toHaveText('Run benchmark')
  await expect(page.getByTestId('bench-error')).toHaveCount(0)
  await expect(page.getByTestId('chart-macro-f1')).toBeVisible()
  await expect(page.getByTestId('per-class-model').locator('option', { hasText: name })).toHaveCount(1, { timeout: 30_000 })
  expect(sent).toEqual(['POST /api/finetune/jobs'])
  await page.screenshot({ path: `${ARTIFACTS}/web-e2e-finished.png`, fullPage: true })
})
