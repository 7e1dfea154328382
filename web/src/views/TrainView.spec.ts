import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import TrainView from './TrainView.vue'
import { FakeEventSource } from '@/testing/FakeEventSource'
import { BASE_MODELS, makeDataset } from '@/testing/fixtures'
import { fakeApi, json, mountAt } from '@/testing/fakeApi'
import { makeJob } from '@/testing/jobs'
import { makeLoopJob } from '@/testing/review'
import { lastStream as last, useFakeStreams } from '@/testing/streams'
import type { Job } from '@/types'

vi.mock('vue-chartjs', async () => {
  const { FakeChart } = await import('@/testing/fakeApi')
  return { Line: FakeChart, Bar: FakeChart }
})

let jobs: Job[] = []
const routes = {
  'GET /api/jobs': () => jobs,
  'GET /api/base-models': () => BASE_MODELS,
  'GET /api/datasets': () => [makeDataset({ id: 'score-file' }), makeDataset({ id: 'ds-0123456789abcdef' })],
  'POST /api/finetune/jobs': (init: RequestInit) => {
    const job = makeJob({ id: 'ft-new', ...JSON.parse(String(init.body)) })
    jobs = [job, ...jobs]
    return job
  },
}
const points = (w: any, id: string) => Number(w.find(`[data-testid="${id}"]`).attributes('data-points'))
const step = (n: number) => ({ epoch: n / 4, step: n, total: 8, loss: 2 - n / 10 })

useFakeStreams()
beforeEach(() => { jobs = [] })

describe('TrainView', () => {
  it('draws the curves as events arrive, and rebuilds them from the replayed log after a reload mid-run', async () => {
    jobs = [makeJob({ id: 'ft-1', state: 'running', epochs: 2, name: 'run-a' })]
    fakeApi(routes)
    const first = (await mountAt('/train', TrainView)).wrapper
    await flushPromises()
    expect(last().url).toBe('/api/jobs/ft-1/events')
    last().open()
    last().send(1, 'started'); last().send(2, 'progress', step(1)); last().send(3, 'progress', step(2))
    await flushPromises()
    expect(points(first, 'curve-loss')).toBe(2)
    first.unmount() // the reload: a new page, a new stream from the first event

    const again = (await mountAt('/train', TrainView)).wrapper
    await flushPromises()
    expect(last().url).toBe('/api/jobs/ft-1/events')
    last().open()
    last().send(1, 'started'); last().send(2, 'progress', step(1)); last().send(3, 'progress', step(2)) // replay
    last().send(4, 'progress', step(3)); last().send(5, 'eval', { epoch: 1, f1: 0.5, accuracy: 0.6, loss: 1 }) // live
    await flushPromises()
    expect(points(again, 'curve-loss')).toBe(3)
    expect(points(again, 'curve-scores')).toBe(2)
    expect(again.find('[data-testid="job-row"]').attributes('aria-pressed')).toBe('true')
  })

  it('queues a fine-tune on the chosen dataset with the Advanced values, then follows it', async () => {
    const api = fakeApi(routes)
    const { wrapper } = await mountAt('/train?data=ds-0123456789abcdef', TrainView)
    await flushPromises()
    await wrapper.find('[data-testid="epochs"]').setValue('1')
    await wrapper.find('[data-testid="hp-batch_size"]').setValue('2')
    await wrapper.find('[data-testid="finetune-form"]').trigger('submit')
    await flushPromises()
    expect(api.bodies['POST /api/finetune/jobs']).toEqual([
      { model: 'minilm', epochs: 1, data: 'ds-0123456789abcdef', hyperparameters: { batch_size: 2 } },
    ])
    expect(last().url).toBe('/api/jobs/ft-new/events')
    expect(wrapper.find('[data-testid="curve-loss"]').text()).toContain('No points yet')
  })

  it('appends older jobs page by page (X-Next-Before), hides the button at the end, and keeps the newest live', async () => {
    jobs = Array.from({ length: 60 }, (_, i) => makeJob({ id: `ft-${60 - i}`, state: 'succeeded' })) // ft-60 newest
    const api = fakeApi({
      ...routes,
      'GET /api/jobs': (_init, url) => { // the API's contract: newest first, older than `before`, a cursor when more
        const query = new URL(url, 'http://x').searchParams
        const limit = Number(query.get('limit') ?? 50)
        const from = query.has('before') ? jobs.findIndex((j) => j.id === query.get('before')) + 1 : 0
        const page = jobs.slice(from, from + limit)
        const more = from + limit < jobs.length
        return json(page, 200, more ? { 'X-Next-Before': page.at(-1)!.id } : {})
      },
    })
    const { wrapper } = await mountAt('/train', TrainView)
    await flushPromises()
    const ids = () => wrapper.findAll('[data-testid="job-row"]').map((r) => r.attributes('data-id'))
    const rows = () => wrapper.findAll('[data-testid="job-row"]')
    expect(rows()).toHaveLength(50)

    await wrapper.find('[data-testid="load-older"]').trigger('click')
    await flushPromises()
    expect(api.calls).toContain('GET /api/jobs?limit=50&before=ft-11')
    expect(rows()).toHaveLength(60)
    expect(wrapper.find('[data-testid="load-older"]').exists()).toBe(false) // no X-Next-Before: nothing older

    jobs = [makeJob({ id: 'ft-61', state: 'running', name: 'newest' }), ...jobs] // ft-11 falls off the newest page
    await vi.advanceTimersByTimeAsync(2000)
    await flushPromises()
    expect(rows()).toHaveLength(61) // no job lost between the live page and the older ones, none twice
    expect(ids()).toEqual(Array.from({ length: 61 }, (_, i) => `ft-${61 - i}`))
  })

  it('does not follow a running audit or score job (the Review page does), only fine-tunes', async () => {
    jobs = [makeLoopJob('audit', { id: 'au-1', state: 'running' }), makeLoopJob('score', { id: 'sc-1', queue_position: 1 }),
      makeJob({ id: 'ft-1', state: 'succeeded', name: 'run-a' })]
    fakeApi(routes)
    const { wrapper } = await mountAt('/train', TrainView)
    await flushPromises()
    const pressed = wrapper.findAll('[data-testid="job-row"]').filter((r) => r.attributes('aria-pressed') === 'true')
    expect(pressed.map((r) => r.attributes('data-id'))).toEqual(['ft-1'])
    expect(FakeEventSource.instances.map((e) => e.url).filter((u) => /au-1|sc-1/.test(u))).toEqual([])

    jobs = [makeJob({ id: 'ft-2', state: 'running', name: 'run-b' }), ...jobs] // a fine-tune starts: followed
    await vi.advanceTimersByTimeAsync(2000)
    await flushPromises()
    expect(last().url).toBe('/api/jobs/ft-2/events')
  })
})
