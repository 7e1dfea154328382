import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import ReviewView from './ReviewView.vue'
import { makeDataset } from '@/testing/fixtures'
import { fakeApi, json, mountAt } from '@/testing/fakeApi'
import { makeJob } from '@/testing/jobs'
import { auditDone, issue, jsonl, makeLoopJob, nextRow, scoreDone } from '@/testing/review'
import { lastStream as last, useFakeStreams } from '@/testing/streams'
import type { Job } from '@/types'

let jobs: Job[] = []
const issues = [issue(1, 'a', 'b'), issue(2, 'b', 'a')]
// The API's filter: ?kind= lists that kind's jobs only (newest first, as stored here).
const byKind = (url: string) => {
  const kind = new URL(url, 'http://x').searchParams.get('kind')
  return jobs.filter((j) => !kind || j.kind === kind)
}
const routes = {
  'GET /api/jobs': (_init: RequestInit, url: string) => byKind(url),
  'GET /api/datasets': () => [{ ...makeDataset({ id: 'ds-a', rows: 60 }), labelled_rows: 40 }],
  'GET /api/models': () => [{ name: 'mail', current_version: 3, versions: 3 }],
  'POST /api/datasets/ds-a/audit': () => {
    jobs = [makeLoopJob('audit', { id: 'au-new', data: 'ds-a' }), ...jobs]
    return json(jobs[0], 202)
  },
  'POST /api/models/mail/score': () => json({ detail: 'The queue is full: try again when a job has finished.' }, 429),
  'GET /api/jobs/au-new/results': () => jsonl(issues),
  'GET /api/jobs/sc-1/results': () => jsonl([nextRow(1, 4, 'a')]),
}

useFakeStreams()
beforeEach(() => { jobs = [] })

describe('ReviewView', () => {
  it('lists only the audit and score jobs, and shows a finished score job\'s label-next list', async () => {
    jobs = [makeJob({ id: 'ft-1', state: 'succeeded' }), scoreDone('sc-1', [nextRow(1, 4, 'a')], [])]
    fakeApi(routes)
    const { wrapper } = await mountAt('/review', ReviewView)
    await flushPromises()
    const rows = wrapper.findAll('[data-testid="job-row"]')
    expect(rows.map((r) => [r.attributes('data-id'), r.attributes('data-kind')])).toEqual([['sc-1', 'score']])
    expect(rows[0]!.text()).toContain('Score mail v3 · ds-0123456789abcdef')
    expect(rows[0]!.text()).toContain('results ready')
    expect(wrapper.findAll('[data-testid="label-next-row"]').map((r) => r.attributes('data-line'))).toEqual(['4'])
  })

  it('asks the server for each kind, so audit and score jobs older than 50 fine-tunes still list, newest first', async () => {
    const fineTunes = Array.from({ length: 60 }, (_, i) => makeJob({ id: `ft-${i}`, submitted_at: '2025-01-03T10:00:00Z' }))
    jobs = [...fineTunes, makeLoopJob('score', { id: 'sc-old', state: 'running', submitted_at: '2025-01-02T10:00:00Z' }),
      makeLoopJob('audit', { id: 'au-old', state: 'succeeded', submitted_at: '2025-01-01T10:00:00Z' })]
    const api = fakeApi(routes)
    const { wrapper } = await mountAt('/review', ReviewView)
    await flushPromises()
    expect(api.calls.filter((c) => c.startsWith('GET /api/jobs?'))).toEqual(
      ['GET /api/jobs?limit=50&kind=audit', 'GET /api/jobs?limit=50&kind=score'])
    const rows = wrapper.findAll('[data-testid="job-row"]')
    expect(rows.map((r) => r.attributes('data-id'))).toEqual(['sc-old', 'au-old'])
    expect(last().url).toBe('/api/jobs/sc-old/events') // the running one is followed
  })

  it('queues an audit, follows its progress and log, then shows its issues once it succeeded', async () => {
    const api = fakeApi(routes)
    const { wrapper } = await mountAt('/review', ReviewView)
    await flushPromises()
    expect(wrapper.find('[data-testid="review-job-detail"]').text()).toContain('Start an audit or a score job')
    await wrapper.find('[data-testid="audit-folds"]').setValue('3')
    await wrapper.find('[data-testid="audit-form"]').trigger('submit')
    await flushPromises()
    expect(api.bodies['POST /api/datasets/ds-a/audit']).toEqual([{ method: 'quick', folds: 3 }])
    expect(last().url).toBe('/api/jobs/au-new/events')
    last().open()
    last().send(1, 'started'); last().send(2, 'progress', { step: 1, total: 3 })
    await flushPromises()
    expect(wrapper.find('[data-testid="progress-steps"]').text()).toBe('Step 1 / 3')
    expect(wrapper.find('[role="progressbar"]').attributes('aria-label')).toBe('audit progress')
    expect(wrapper.findAll('[data-testid="log-line"]')).toHaveLength(2)
    expect(wrapper.find('[data-testid="audit-results"]').exists()).toBe(false)

    jobs = [auditDone('au-new', issues)]
    last().send(3, 'complete')
    await flushPromises()
    expect(wrapper.find('[data-testid="review-done"]').exists()).toBe(true)
    expect(wrapper.findAll('[data-testid="issue-row"]')).toHaveLength(2)
  })

  it('shows why a score job was not queued, beside its form', async () => {
    const api = fakeApi(routes)
    const { wrapper } = await mountAt('/review', ReviewView)
    await flushPromises()
    await wrapper.find('[data-testid="score-form"]').trigger('submit')
    await flushPromises()
    expect(api.bodies['POST /api/models/mail/score']).toEqual([{ data: 'ds-a', top_k: 3, label_next: 200 }])
    expect(wrapper.find('[data-testid="score-error"]').text()).toBe('The queue is full: try again when a job has finished.')
    expect(wrapper.find('[data-testid="audit-error"]').exists()).toBe(false)
  })

  it('disables both forms without datasets or models, and says why a failed job failed', async () => {
    jobs = [makeLoopJob('audit', { id: 'au-bad', state: 'failed',
      error: { code: 'bad_input', message: 'Label "rare" has 1 labelled row; the audit needs at least 2 per label.' } })]
    fakeApi({ ...routes, 'GET /api/datasets': () => [], 'GET /api/models': () => [] })
    const { wrapper } = await mountAt('/review', ReviewView)
    await flushPromises()
    expect(wrapper.find('[data-testid="job-failure"]').text()).toContain('Label "rare" has 1 labelled row')
    expect(wrapper.find('[data-testid="run-audit"]').attributes('disabled')).toBeDefined()
    expect(wrapper.find('[data-testid="run-score"]').attributes('disabled')).toBeDefined()
  })
})
