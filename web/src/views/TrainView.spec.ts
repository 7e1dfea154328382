import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import TrainView from './TrainView.vue'
import { FakeEventSource } from '@/testing/FakeEventSource'
import { BASE_MODELS, makeDataset } from '@/testing/fixtures'
import { fakeApi, mountAt } from '@/testing/fakeApi'
import { makeJob } from '@/testing/jobs'
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
const last = () => FakeEventSource.instances.at(-1)!
const points = (w: any, id: string) => Number(w.find(`[data-testid="${id}"]`).attributes('data-points'))
const step = (n: number) => ({ epoch: n / 4, step: n, total: 8, loss: 2 - n / 10 })

beforeEach(() => {
  jobs = []
  FakeEventSource.instances = []
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

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
})
