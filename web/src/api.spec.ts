import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, apiReachable, describeDetail, TOKEN_KEY } from './api'

afterEach(() => {
  vi.unstubAllGlobals()
  localStorage.clear()
})

describe('api', () => {
  it('turns a FastAPI 422 detail into one sentence', async () => {
    const detail = [{ loc: ['body', 'epochs'], msg: 'Input should be less than or equal to 20' }]
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ detail }), { status: 422 })))
    await expect(api.startFinetune({ model: 'minilm', epochs: 50 }))
      .rejects.toThrow('epochs: Input should be less than or equal to 20')
    expect(describeDetail('plain')).toBe('plain')
  })

  it('says the API is unreachable when fetch fails', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    const err = await api.jobs().catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.message).toMatch(/Cannot reach the API/)
    expect(apiReachable.value).toBe(false)
    vi.stubGlobal('fetch', vi.fn(async () => new Response('[]')))
    await api.jobs()
    expect(apiReachable.value).toBe(true)
  })

  it('takes a proxy\'s 502 for an API that is down, but reads a 503 health body', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('Bad Gateway', { status: 502 })))
    await expect(api.models()).rejects.toThrow(/not answering \(502\)/)
    expect(apiReachable.value).toBe(false)
    const down = { status: 'down', redis: false, workers: [], queue_length: null, running: null }
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(down), {
      status: 503, headers: { 'content-type': 'application/json' },
    })))
    expect(await api.health()).toEqual(down)
    expect(apiReachable.value).toBe(true)
  })

  it('sends the optional token as a bearer header and on stream URLs', async () => {
    localStorage.setItem(TOKEN_KEY, 's3cret')
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => new Response('[]'))
    vi.stubGlobal('fetch', fetchMock)
    await api.jobs()
    expect(new Headers(fetchMock.mock.calls[0]![1].headers).get('Authorization')).toBe('Bearer s3cret')
    expect(api.jobEventsUrl('abc', 7)).toBe('/api/jobs/abc/events?last_event_id=7&token=s3cret')
  })

  it('uses the jobs routes for both kinds, and only queues work with POST', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response('{}'))
    vi.stubGlobal('fetch', fetchMock)
    await api.jobs({ kind: 'benchmark', limit: 5 })
    await api.job('a/b')
    await api.cancelJob('j1')
    await api.startBenchmark()
    await api.startFinetune({ model: 'minilm', epochs: 1, name: 'run-1' })
    const calls = fetchMock.mock.calls.map(([url, init]) => [init?.method ?? 'GET', url, init?.body ?? null])
    expect(calls).toEqual([
      ['GET', '/api/jobs?kind=benchmark&limit=5', null],
      ['GET', '/api/jobs/a%2Fb', null],
      ['POST', '/api/jobs/j1/cancel', null],
      ['POST', '/api/benchmark/jobs', '{}'],
      ['POST', '/api/finetune/jobs', '{"model":"minilm","epochs":1,"name":"run-1"}'],
    ])
    expect(api.jobEventsUrl('j1')).toBe('/api/jobs/j1/events')
  })
})
