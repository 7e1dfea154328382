import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import BenchmarkView from './BenchmarkView.vue'
import { FakeEventSource } from '@/testing/FakeEventSource'
import { makeJob } from '@/testing/jobs'
import type { BenchmarkResults, Job, ModelStatus } from '@/types'

/** A fake API behind fetch: the spec changes `server` between polls, as the worker would. */
const server = {
  jobs: [] as Job[],
  trained: [] as ModelStatus[],
  results: { latest: null, history: [] } as BenchmarkResults,
  calls: [] as string[],
}
const models = [{ key: 'minilm', description: 'MiniLM', base_model: 'm/MiniLM', max_tokens: 256, default: true }]
const run = { id: 'r1', timestamp: '2025-01-01T10:05:00Z', data_file: 'data/x.jsonl', rows: 12, split_seed: 42, results: [] }

function reply(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

async function fakeFetch(url: string, init: RequestInit = {}) {
  const method = init.method ?? 'GET'
  server.calls.push(`${method} ${url}`)
  const routes: Record<string, () => Response> = {
    'GET /api/jobs': () => reply(server.jobs),
    'GET /api/models': () => reply(models),
    'GET /api/finetune/status': () => reply(server.trained),
    'GET /api/benchmark/results': () => reply(server.results),
    'POST /api/benchmark/jobs': () => {
      const job = makeJob({ id: 'bench-1', kind: 'benchmark', model: null, epochs: null })
      server.jobs = [job, ...server.jobs]
      return reply(job, 202)
    },
    'POST /api/finetune/jobs': () => {
      const job = makeJob({ id: 'ft-new', ...JSON.parse(String(init.body)) })
      server.jobs = [job, ...server.jobs]
      return reply(job, 202)
    },
  }
  return (routes[`${method} ${url}`] ?? (() => reply({ detail: 'Not Found' }, 404)))()
}

const streams = () => FakeEventSource.instances.map((es) => es.url)
const stream = (url: string) => FakeEventSource.instances.filter((es) => es.url === url).at(-1)!
const calls = (call: string) => server.calls.filter((c) => c === call).length

async function mountPage() {
  const page = mount(BenchmarkView, { global: { stubs: { BenchmarkCharts: true } } })
  await flushPromises()
  return page
}

beforeEach(() => {
  Object.assign(server, { jobs: [], trained: [], results: { latest: null, history: [] }, calls: [] })
  FakeEventSource.instances = []
  vi.stubGlobal('fetch', vi.fn(fakeFetch))
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  localStorage.clear()
})

describe('BenchmarkView', () => {
  it('reloads badges and charts when jobs end, and starts no work itself after a fine-tune', async () => {
    server.jobs = [makeJob({ id: 'ft-1', state: 'running' })]
    const page = await mountPage()
    expect(streams()).toEqual(['/api/jobs/ft-1/events'])

    // The fine-tune succeeds; the worker has queued a benchmark by itself.
    server.trained = [{ name: 'avocet-e2e', base_model: 'minilm', val_macro_f1: 0.7, timestamp: 'x', sample_count: 12 }]
    server.jobs = [
      makeJob({ id: 'bench-w', kind: 'benchmark', model: null, epochs: null, state: 'running', source: 'worker' }),
      makeJob({ id: 'ft-1', state: 'succeeded', result: { name: 'avocet-e2e', val_macro_f1: 0.7 } }),
    ]
    await vi.advanceTimersByTimeAsync(2000)
    await flushPromises()
    expect(page.find('[data-testid="trained-badge"]').text()).toContain('avocet-e2e')
    expect(page.find('[data-testid="run-benchmark"]').text()).toBe('Benchmarking…')
    expect(page.find('[data-testid="bench-job"]').text()).toContain('the worker is benchmarking it')
    expect(streams()).toContain('/api/jobs/bench-w/events')

    // Its stream ends: the jobs are reloaded at once, and with them the charts.
    const resultsBefore = calls('GET /api/benchmark/results')
    server.jobs = [{ ...server.jobs[0]!, state: 'succeeded' }, server.jobs[1]!]
    server.results = { latest: run, history: [run] }
    stream('/api/jobs/bench-w/events').open()
    stream('/api/jobs/bench-w/events').send(1, 'complete', { results_file: 'models/benchmark_results.json' })
    await flushPromises()
    expect(calls('GET /api/benchmark/results')).toBe(resultsBefore + 1)
    expect(page.find('benchmark-charts-stub').exists()).toBe(true)
    expect(page.find('[data-testid="run-benchmark"]').text()).toBe('Run benchmark')

    expect(server.calls.filter((c) => !c.startsWith('GET '))).toEqual([])
    expect([...server.calls, ...streams()].filter((url) => url.includes('/api/benchmark/run'))).toEqual([])
  })

  it('queues a benchmark with POST and follows it through the jobs stream', async () => {
    const page = await mountPage()
    expect(page.find('[data-testid="no-benchmark"]').exists()).toBe(true)
    await page.find('[data-testid="run-benchmark"]').trigger('click')
    await flushPromises()
    expect(calls('POST /api/benchmark/jobs')).toBe(1)
    expect(page.find('[data-testid="run-benchmark"]').attributes('disabled')).toBeDefined()
    expect(page.find('[data-testid="bench-job"]').attributes('data-state')).toBe('queued')
    expect(streams()).toEqual(['/api/jobs/bench-1/events'])
  })

  it('follows a fine-tune as soon as it is queued', async () => {
    const page = await mountPage()
    await page.find('[data-testid="epochs"]').setValue('2')
    await page.find('[data-testid="finetune-form"]').trigger('submit')
    await flushPromises()
    expect(calls('POST /api/finetune/jobs')).toBe(1)
    expect(page.find('[data-testid="job-row"]').attributes('aria-pressed')).toBe('true')
    expect(streams()).toEqual(['/api/jobs/ft-new/events'])
  })
})
