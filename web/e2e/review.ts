/**
 * The Review page on the real stack (issue 17's labelling loop), called from finetune.spec.ts while its model is
 * published: upload a partly-unlabelled file, run a quick audit from the page and read its issues, then score the
 * file with the model and read the label-next list; each result file is downloaded and checked against its table.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, type Page } from '@playwright/test'
import { checkPage } from './helpers'

const EXAMPLE = fileURLToPath(new URL('../../data/email_score.jsonl.example', import.meta.url))
const UNLABELLED = 6

/**
 * The example file (2 rows per label), three more copies of its first digest email labelled `digest` and one labelled
 * `rejected` (a label error the quick audit's out-of-fold model cannot miss), and six rows with their label removed.
 */
export function partlyLabelled(): { text: string; rows: number } {
  const rows = readFileSync(EXAMPLE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  const digest = rows.find((r) => r.label === 'digest')!
  const copies = ['digest', 'digest', 'digest', 'rejected'].map((label, i) => ({ ...digest, id: `copy-${i}`, label }))
  const inbox = rows.slice(0, UNLABELLED).map(({ label: _gone, ...r }, i) => ({ ...r, id: `inbox-${i}`,
    subject: `Fwd: ${r.subject}` }))
  const all = [...rows, ...copies, ...inbox]
  return { text: all.map((r) => JSON.stringify(r)).join('\n') + '\n', rows: all.length }
}

/** The rows of a result file, read as the download link gives it (the page's session cookie included). */
async function download(page: Page, testid: string): Promise<Record<string, unknown>[]> {
  const href = await page.getByTestId(testid).getAttribute('href')
  const res = await page.request.get(href!)
  expect(res.status(), `${href}`).toBe(200)
  expect(res.headers()['content-type']).toContain('application/x-ndjson')
  return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l))
}

/** The job just queued from the page (`kind`: not the one shown before it) ends, and succeeds. */
async function waitForJob(page: Page, kind: 'audit' | 'score', slow: number) {
  const detail = page.getByTestId('review-job-detail')
  await expect(detail).toHaveAttribute('data-kind', kind)
  await expect(detail).toHaveAttribute('data-state', /succeeded|failed|cancelled/, { timeout: slow })
  await expect(page.getByTestId('job-failure')).toHaveCount(0)
  await expect(detail).toHaveAttribute('data-state', 'succeeded')
}

export async function reviewLoop(page: Page, model: string, slow: number) {
  const file = partlyLabelled()
  await page.goto('/data')
  await page.getByTestId('file-input').setInputFiles({ name: 'inbox-e2e.jsonl', mimeType: 'application/x-ndjson',
    buffer: Buffer.from(file.text) })
  const detail = page.getByTestId('dataset-detail')
  await expect(detail).toContainText('inbox-e2e.jsonl')
  const dataset = (await detail.getAttribute('data-id'))!
  await expect(page.getByTestId('stat-Rows')).toHaveText(String(file.rows))

  await page.goto('/review')
  await expect(page.getByRole('heading', { name: 'Review', level: 1 })).toBeVisible()
  await page.getByTestId('audit-dataset').selectOption(dataset)
  await expect(page.locator('#audit-dataset-help')).toHaveText(`${file.rows - UNLABELLED} of ${file.rows} rows labelled`)
  await page.getByTestId('audit-method').selectOption('quick')
  await page.getByTestId('audit-folds').fill('2')
  await page.getByTestId('run-audit').click()
  await expect(page.getByTestId('audit-error')).toHaveCount(0)
  await waitForJob(page, 'audit', slow)
  const issues = page.getByTestId('issue-row')
  await expect(issues.first()).toBeVisible()
  await expect(page.locator('[data-testid="issue-row"][data-given="rejected"]')).not.toHaveCount(0) // the planted error
  const fileRows = await download(page, 'download-issues')
  expect(fileRows.length).toBe(await issues.count())
  expect(fileRows.map((r) => r.line)).toEqual(await issues.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-line')))))
  await page.locator('[data-testid="label-filter"][data-label="rejected"]').click()
  await expect(page.locator('[data-testid="issue-row"]:not([data-given="rejected"])')).toHaveCount(0)
  await checkPage(page, 'review-audit')

  await page.getByTestId('score-model').selectOption(model)
  await page.getByTestId('score-dataset').selectOption(dataset)
  await page.getByTestId('run-score').click()
  await expect(page.getByTestId('score-error')).toHaveCount(0)
  await waitForJob(page, 'score', slow)
  const next = page.getByTestId('label-next-row')
  await expect(next).toHaveCount(UNLABELLED) // every unlabelled row, ranked (the default keeps 200)
  const ranked = await download(page, 'download-label_next')
  expect(ranked.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6])
  expect(ranked.every((r) => r.given === null && typeof r.id === 'string' && String(r.id).startsWith('inbox-'))).toBe(true)
  expect((await download(page, 'download-predictions')).length).toBe(file.rows)
  await expect(page.getByTestId('disagreements').or(page.getByTestId('disagreements-empty'))).toBeVisible()
  await checkPage(page, 'review-score')
}
