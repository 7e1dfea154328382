import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, test, type Locator, type Page } from '@playwright/test'
import { checkPage, expectAccessible, settled, shoot, watchCsp } from './helpers'
import { reviewLoop } from './review'

// Minutes, not seconds: on the real stack this trains MiniLM on CPU, twice.
const SLOW = Number(process.env.AVOCET_E2E_STEP_TIMEOUT_MS ?? 8 * 60_000)
const EXAMPLE = fileURLToPath(new URL('../../data/email_score.jsonl.example', import.meta.url))
const NAME = `e2e-${Date.now()}`
const state = { dataset: '', sent: [] as string[] }

const jobLog = (page: Page) => page.getByTestId('job-detail').getByTestId('log-line')
const points = async (page: Page, id: string) => Number(await page.getByTestId(id).getAttribute('data-points'))

/** What the page asks the API to change (anything but GET): the e2e checks no benchmark is ever started by it. */
function recordWrites(page: Page) {
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname
    if (path.startsWith('/api/') && r.method() !== 'GET') state.sent.push(`${r.method()} ${path}`)
  })
}

/** Open a confirm dialog from `opener` and confirm it, by keyboard only; an axe scan of the dialog when `scan` names it. */
async function confirmByKeyboard(page: Page, opener: Locator, title: string, confirm: string, scan?: string) {
  await opener.focus()
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog', { name: title })
  await expect(dialog).toBeVisible()
  if (scan) await expectAccessible(page, scan)
  await dialog.getByRole('button', { name: confirm }).focus()
  await page.keyboard.press('Enter')
  await expect(dialog).toBeHidden()
}

async function waitForRun(page: Page) {
  await expect(jobLog(page).last()).toContainText('complete', { timeout: SLOW })
  await expect(page.getByTestId('job-failure')).toHaveCount(0)
}

test.describe.configure({ mode: 'serial' })

let cspViolations: string[] = []
test.beforeEach(({ page }) => { cspViolations = watchCsp(page) })
test.afterEach(() => { expect(cspViolations, 'Content-Security-Policy violations on the console').toEqual([]) })

test('sign-in: a prompt when the API needs its token; a lost session asks again; nothing else loops', async ({ page }) => {
  const base = process.env.AVOCET_E2E_TOKEN_URL
  const token = process.env.AVOCET_E2E_TOKEN
  test.skip(!base || !token, 'needs an API with a token: AVOCET_E2E_TOKEN_URL and AVOCET_E2E_TOKEN (tests/e2e/test_web_e2e.py)')
  const calls: string[] = []
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/api/')) calls.push(`${r.method()} ${new URL(r.url()).pathname}`) })
  const prompt = page.getByRole('heading', { name: 'Sign in' })
  const signIn = async (value: string) => {
    await page.getByLabel('API token').fill(value)
    await page.keyboard.press('Enter')
  }

  await page.goto(`${base}/train`)
  await expect(prompt).toBeVisible()
  await expect(page.getByLabel('API token')).toBeFocused()
  await signIn('not-the-token')
  await expect(page.getByTestId('sign-in-error')).toContainText("not this API's token")
  await checkPage(page, 'sign-in')
  expect(calls.filter((c) => !['GET /api/session', 'GET /api/health'].includes(c)), 'only signing in while signed out')
    .toEqual(['POST /api/session'])

  await signIn(token!)
  await expect(page.getByRole('heading', { name: 'Fine-tune', level: 1 })).toBeVisible()
  await expect(page.getByTestId('model-select')).toHaveValue('minilm') // read with the session cookie
  const cookie = (await page.context().cookies()).find((c) => c.name === 'avocet_session')
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api' })
  expect(await page.evaluate(() => JSON.stringify(localStorage) + location.href)).not.toContain(token!)
  await page.reload()
  await expect(page.getByRole('heading', { name: 'Fine-tune', level: 1 })).toBeVisible() // still signed in

  await page.context().clearCookies() // the session ends under an open page: its next poll meets a 401
  await expect(prompt).toBeVisible()
  await signIn(token!)
  await expect(page.getByTestId('jobs-panel')).toBeVisible()
  await page.getByTestId('sign-out').click()
  await expect(prompt).toBeVisible()
  expect(calls.filter((c) => c === 'POST /api/session')).toHaveLength(3)
})

test('data: a refused upload shows its bad lines; the example file shows rows, labels, drops and a preview', async ({ page }) => {
  await page.goto('/data')
  await expect(page.getByRole('heading', { name: 'Data', level: 1 })).toBeVisible()
  const example = readFileSync(EXAMPLE, 'utf8')
  // Line 3 lacks its body (a missing label is allowed: an unlabelled row), line 4 is not JSON.
  const bad = example.split('\n').slice(0, 2).join('\n') + '\n{"subject": "no body", "label": "rejected"}\nnot json\n'
  const input = page.getByTestId('file-input')
  await input.setInputFiles({ name: 'broken.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(bad) })
  await expect(page.getByTestId('upload-errors')).toContainText('broken.jsonl was not stored')
  await expect(page.getByTestId('upload-error').first()).toContainText('Line 3')
  await expect(page.getByTestId('upload-error').nth(1)).toContainText('Line 4')
  await checkPage(page, 'data-upload-error')

  // A file with one row of a rare label: the label set would drop it (too few rows to split).
  const rare = `${example.trim()}\n{"subject": "One of a kind", "body": "only row", "label": "rare_label"}\n`
  await input.setInputFiles({ name: 'with-rare.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(rare) })
  await expect(page.getByTestId('upload-errors')).toHaveCount(0)
  await expect(page.getByTestId('dropped')).toContainText('rare_label: 1 row, fewer than 2 rows')

  // No job uses that upload: it is deleted from the keyboard after confirming (the score file offers no delete).
  await expect(page.locator('[data-id="score-file"] ~ [data-testid="dataset-delete"]')).toHaveCount(0)
  const deleteRare = page.getByRole('button', { name: /^Delete dataset with-rare\.jsonl/ })
  await confirmByKeyboard(page, deleteRare, 'Delete with-rare.jsonl?', 'Delete dataset', 'delete-dataset dialog')
  await expect(page.getByTestId('dataset-item').filter({ hasText: 'with-rare.jsonl' })).toHaveCount(0)

  await input.setInputFiles(EXAMPLE)
  const detail = page.getByTestId('dataset-detail')
  await expect(detail).toHaveAttribute('data-id', /^ds-[0-9a-f]{16}$/) // the upload, not the score file shown before
  await expect(detail).toContainText('email_score.jsonl.example')
  state.dataset = (await detail.getAttribute('data-id'))!
  await expect(page.getByTestId('stat-Rows')).toHaveText('20')
  await expect(page.getByTestId('chart-labels')).toBeVisible()
  await expect(page.getByTestId('dropped-none')).toBeVisible()
  await expect(page.getByTestId('preview').locator('tbody tr')).toHaveCount(5)
  await checkPage(page, 'data')
})

test('fine-tune: defaults and Advanced checked in place, curves grow live and survive a reload mid-run', async ({ page }) => {
  recordWrites(page)
  await page.goto('/data')
  await page.locator(`[data-testid="dataset-item"][data-id="${state.dataset}"]`).click()
  await page.getByTestId('train-on').click()
  await expect(page.getByRole('heading', { name: 'Fine-tune', level: 1 })).toBeVisible()
  await expect(page.getByTestId('dataset-select')).toHaveValue(state.dataset)

  const run = page.getByTestId('run-finetune')
  await page.getByTestId('epochs').fill('0') // the server's own rules, in place
  await expect(page.getByTestId('epochs-problem')).toContainText('from 1 to 20')
  await expect(run).toBeDisabled()
  await page.getByTestId('epochs').fill('1')
  await page.getByLabel('Name (optional)').fill('E2E.run')
  await expect(run).toBeDisabled()
  await page.getByLabel('Name (optional)').fill(NAME)
  await page.getByTestId('advanced').locator('summary').click()
  await expect(page.getByTestId('hp-batch_size')).toHaveAttribute('placeholder', '16')
  await page.getByTestId('hp-batch_size').fill('0')
  await expect(page.getByTestId('hp-batch_size-problem')).toHaveText('Batch Size must be 1 to 256; 0 is out of range.')
  await expect(run).toBeDisabled()
  await page.getByTestId('hp-batch_size').fill('2') // 5 steps in the epoch: a loss curve with several points
  await checkPage(page, 'train-form')
  await run.click()
  await expect(page.getByTestId('start-error')).toHaveCount(0)

  // The curves grow as the run reports steps; then reload while it runs.
  const row = page.getByTestId('job-row').filter({ hasText: NAME })
  await expect(row).toHaveAttribute('aria-pressed', 'true')
  await expect.poll(() => points(page, 'curve-loss'), { timeout: SLOW }).toBeGreaterThan(0)
  const seen = new Set<number>()
  await expect.poll(async () => { seen.add(await points(page, 'curve-loss')); return seen.size }, { timeout: SLOW, intervals: [100] })
    .toBeGreaterThanOrEqual(2)
  const before = await points(page, 'curve-loss')
  const runningAtReload = (await row.getAttribute('data-state')) === 'running'
  await page.reload()
  await expect(row).toHaveAttribute('aria-pressed', 'true')
  await expect.poll(() => points(page, 'curve-loss')).toBeGreaterThanOrEqual(before) // rebuilt from the replayed log
  if (runningAtReload) await expect.poll(() => points(page, 'curve-loss'), { timeout: SLOW }).toBeGreaterThan(before)
  await waitForRun(page)
  await expect.poll(() => points(page, 'curve-scores')).toBeGreaterThanOrEqual(2) // macro-F1 and accuracy of epoch 1
  await expect(page.getByTestId('published')).toContainText(`avocet-${NAME}`)
  await checkPage(page, 'train')
})

test('model page: versions, per-class F1, confusion matrix (counts and rows) and the model card', async ({ page }) => {
  await page.goto('/models')
  await page.getByRole('link', { name: NAME }).click()
  await expect(page.getByRole('heading', { name: `avocet-${NAME}`, level: 1 })).toBeVisible()
  await expect(page.getByTestId('version-row')).toHaveCount(1)
  await expect(page.getByTestId('confusion')).toBeVisible()
  await expect(page.getByTestId('confusion-cell')).toHaveCount(100) // 10 labels
  await page.getByTestId('confusion-rows').click()
  await expect(page.getByTestId('confusion').locator('table')).toHaveAttribute('data-mode', 'rows')
  await expect(page.getByTestId('chart-model-per-class')).toBeVisible()
  await expect(page.getByTestId('model-card').getByRole('heading', { name: `avocet-${NAME}` })).toBeVisible()
  await checkPage(page, 'model')
  await page.goto('/models')
  await expect(page.getByTestId('model-item').filter({ hasText: NAME })).toBeVisible()
  await checkPage(page, 'models')
})

test('train the same name again, then roll back to version 1 from the keyboard after confirming', async ({ page }) => {
  recordWrites(page)
  await page.goto(`/train?data=${state.dataset}`)
  await expect(page.getByTestId('dataset-select')).toHaveValue(state.dataset)
  await page.getByTestId('epochs').fill('1')
  await page.getByLabel('Name (optional)').fill(NAME)
  await page.getByTestId('run-finetune').click()
  await expect(page.getByTestId('job-row').first()).toHaveAttribute('aria-pressed', 'true')
  await waitForRun(page)
  await page.getByTestId('open-model').click()
  await expect(page.getByTestId('version-row')).toHaveCount(2)
  await expect(page.locator('[data-testid="version-row"][data-current="true"]')).toHaveAttribute('data-version', '2')

  const rollback = page.getByRole('button', { name: 'Roll back to v1' })
  await rollback.focus()
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog', { name: 'Roll back to version 1?' })
  await expect(dialog).toBeVisible()
  await expectAccessible(page, 'rollback dialog')
  await shoot(page, 'rollback-dialog')
  await page.keyboard.press('Escape') // changing one's mind sends nothing
  await expect(dialog).toBeHidden()
  await confirmByKeyboard(page, rollback, 'Roll back to version 1?', 'Roll back')
  await expect(page.locator('[data-testid="version-row"][data-current="true"]')).toHaveAttribute('data-version', '1')
  await expect(page.getByRole('button', { name: 'Roll back to v2' })).toBeVisible()
})

test('compare: two runs overlaid, and the benchmark the worker queued after each fine-tune', async ({ page }) => {
  await page.goto('/compare')
  await expect(page.getByRole('heading', { name: 'Compare', level: 1 })).toBeVisible()
  await expect(page.getByTestId('run-a')).not.toHaveValue('')
  await expect(page.getByTestId('run-b')).not.toHaveValue('')
  await expect.poll(() => points(page, 'curve-loss')).toBeGreaterThanOrEqual(2) // both runs' losses on one chart
  await expect(page.getByTestId('compare-table')).toContainText('batch_size')
  // The worker (not the page) benchmarks each new model; the section follows the newest such job to its end.
  const bench = page.getByTestId('bench-job')
  await expect(bench).toHaveAttribute('data-source', 'worker', { timeout: 60_000 })
  await expect(bench).toHaveAttribute('data-state', 'succeeded', { timeout: SLOW })
  await expect(page.getByTestId('chart-macro-f1')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('per-class-model').locator('option', { hasText: NAME })).toHaveCount(1, { timeout: 30_000 })
  await settled(page)
  await checkPage(page, 'compare')
  expect(state.sent.filter((s) => s.includes('benchmark'))).toEqual([])
  expect(state.sent.filter((s) => s === 'POST /api/finetune/jobs')).toHaveLength(2)
})

test('try it: one email, then several pasted at once (POST /api/models/{name}/predict)', async ({ page }) => {
  recordWrites(page)
  await page.goto(`/try?model=${NAME}`)
  await expect(page.getByLabel('Model')).toHaveValue(NAME)
  await page.getByLabel('Subject').fill('Interview confirmed: Thursday 14:00')
  await page.getByLabel('Body').fill('Thanks for applying. We would like to invite you to a video interview on Thursday at 14:00.')
  await page.getByTestId('predict').click()
  await expect(page.getByTestId('prediction')).toHaveCount(1, { timeout: 120_000 }) // the first predict loads the model
  await expect(page.getByTestId('predicted-label')).not.toBeEmpty()
  await expect(page.getByTestId('top-label')).toHaveCount(3)
  await page.getByTestId('mode-many').click()
  await page.getByLabel('Pasted emails').fill('Your offer\nWe are delighted to offer you the role.\n---\nWeekly digest\nTen stories you missed this week.')
  await page.getByTestId('predict').click()
  await expect(page.getByTestId('prediction')).toHaveCount(2)
  await expect(page.getByTestId('predict-error')).toHaveCount(0)
  await checkPage(page, 'try')
})

test('review: a quick audit of a partly-unlabelled upload finds its planted error; the model ranks what to label next', async ({ page }) => {
  await reviewLoop(page, NAME, SLOW) // the labelling loop's API (issue 17); the model is deleted by the next test
})

test('delete the older version, then the whole model, from the keyboard after confirming', async ({ page }) => {
  recordWrites(page)
  await page.goto(`/models/${NAME}`)
  await expect(page.getByTestId('version-row')).toHaveCount(2)
  await expect(page.getByRole('button', { name: 'Delete version 1' })).toHaveCount(0) // v1 is current: not offered
  await confirmByKeyboard(page, page.getByRole('button', { name: 'Delete version 2' }), 'Delete version 2?', 'Delete version',
    'delete-version dialog')
  await expect(page.getByTestId('version-row')).toHaveCount(1)
  await expect(page.locator('[data-testid="version-row"][data-current="true"]')).toHaveAttribute('data-version', '1')

  await confirmByKeyboard(page, page.getByRole('button', { name: `Delete model avocet-${NAME}` }), `Delete avocet-${NAME}?`,
    'Delete model')
  await expect(page).toHaveURL(/\/models$/)
  await expect(page.getByRole('heading', { name: 'Models', level: 1 })).toBeVisible()
  await expect(page.getByTestId('model-item').filter({ hasText: NAME })).toHaveCount(0)
  expect(state.sent.filter((s) => s.startsWith('DELETE'))).toEqual([`DELETE /api/models/${NAME}/versions/2`, `DELETE /api/models/${NAME}`])
})
