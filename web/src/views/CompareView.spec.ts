import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import CompareView from './CompareView.vue'
import { FakeEventSource } from '@/testing/FakeEventSource'
import { ev } from '@/testing/fixtures'
import { fakeApi, mountAt } from '@/testing/fakeApi'
import { makeJob } from '@/testing/jobs'

vi.mock('vue-chartjs', async () => {
  const { FakeChart } = await import('@/testing/fakeApi')
  return { Line: FakeChart, Bar: FakeChart }
})

const run = (id: string, batch: number) => makeJob({ id, state: 'succeeded', name: id, hyperparameters: { batch_size: batch, seed: 42 },
  result: { name: id, val_macro_f1: batch / 20, val_accuracy: 0.5 } })
const log = (losses: number[]) => ({
  events: [...losses.map((loss, i) => ev(i + 1, 'progress', { step: i + 1, loss })), ev(9, 'eval', { epoch: 1, f1: 0.4, accuracy: 0.5 })],
  next_after: 9, has_more: false, state: 'succeeded',
})
const chart = (w: any, id: string) => JSON.parse(w.find(`[data-testid="${id}"] canvas`).attributes('data-chart'))

beforeEach(() => vi.stubGlobal('EventSource', FakeEventSource))
afterEach(() => vi.unstubAllGlobals())

describe('CompareView', () => {
  it('overlays the two newest finished runs and marks the settings that differ', async () => {
    fakeApi({
      'GET /api/jobs': () => [makeJob({ id: 'live', state: 'running' }), run('new', 4), run('old', 16)],
      'GET /api/jobs/new/log': () => log([2, 1.5, 1.2]),
      'GET /api/jobs/old/log': () => log([2.1, 1.9]),
      'GET /api/benchmark/results': () => ({ latest: null, history: [] }),
    })
    const { wrapper, router } = await mountAt('/compare', CompareView)
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ a: 'new', b: 'old' })
    const loss = chart(wrapper, 'curve-loss')
    expect(loss.datasets.map((d: any) => [d.label, d.data.length])).toEqual([['A: new · loss', 3], ['B: old · loss', 2]])
    expect(chart(wrapper, 'curve-scores').datasets).toHaveLength(4) // macro-F1 and accuracy of each run
    const differs = wrapper.findAll('[data-testid="compare-table"] tr.differs th').map((th) => th.text())
    expect(differs).toEqual(['Macro-F1', 'batch_size'])
  })
})
