import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, apiReachable, describeDetail, signInNeeded } from './api'

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

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
    await expect(api.baseModels()).rejects.toThrow(/not answering \(502\)/)
    expect(apiReachable.value).toBe(false)
    const down = { status: 'down', redis: false, workers: [], queue_length: null, running: null }
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(down), {
      status: 503, headers: { 'content-type': 'application/json' },
    })))
    expect(await api.health()).toEqual(down)
    expect(apiReachable.value).toBe(true)
  })

  it('waits for one in-page sign-in on 401s (token traded for a cookie), then retries; tokens stay out of URLs', async () => {
    let signedIn = false
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/session') {
        signedIn = init?.body === JSON.stringify({ token: 's3cret' })
        return signedIn ? json({ token_required: true, signed_in: true }) : json({ detail: 'that is not this API\'s token' }, 401)
      }
      return signedIn ? json([]) : json({ detail: 'needs the token' }, 401)
    })
    vi.stubGlobal('fetch', fetchMock)
    const both = Promise.all([api.jobs(), api.jobs()])
    await vi.waitFor(() => expect(signInNeeded.value).toBe(true))
    await expect(api.signIn('wrong')).rejects.toThrow("that is not this API's token") // no loop: one answer
    expect(signInNeeded.value).toBe(true)
    await api.signIn('s3cret')
    expect(await both).toEqual([[], []])
    expect(signInNeeded.value).toBe(false)
    expect(fetchMock.mock.calls.filter(([url]) => url === '/api/jobs')).toHaveLength(4) // each tried twice, no more
    expect(fetchMock.mock.calls.every(([, init]) => !new Headers(init?.headers).has('Authorization'))).toBe(true)
    expect(api.jobEventsUrl('abc', 7)).toBe('/api/jobs/abc/events?last_event_id=7')
  })

  it('uploads a dataset as multipart and keeps the line-numbered problems of a refusal', async () => {
    const detail = { message: '2 bad lines, first at line 2: no label', errors: [{ line: 2, problem: 'no label' }] }
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => json({ detail }, 422))
    vi.stubGlobal('fetch', fetchMock)
    const err = await api.uploadDataset(new File(['{}\n'], 'bad.jsonl')).catch((e) => e)
    const [url, init] = fetchMock.mock.calls[0]!
    expect([url, init?.method, init?.body instanceof FormData]).toEqual(['/api/datasets', 'POST', true])
    expect(new Headers(init?.headers).has('Content-Type')).toBe(false) // the browser sets the multipart boundary
    expect(err).toMatchObject({ status: 422, message: detail.message, detail })
  })

  it('reads a whole job log page by page, and a busy predict\'s Retry-After', async () => {
    const pages: Record<string, unknown> = {
      '/api/jobs/j1/log?after=0&limit=1000': { events: [{ id: 1 }, { id: 2 }], next_after: 2, has_more: true, state: 'running' },
      '/api/jobs/j1/log?after=2&limit=1000': { events: [{ id: 3 }], next_after: 3, has_more: false, state: 'running' },
    }
    vi.stubGlobal('fetch', vi.fn(async (url: string) => json(pages[url] ?? { detail: 'Not Found' }, pages[url] ? 200 : 404)))
    expect((await api.allEvents('j1')).map((e) => e.id)).toEqual([1, 2, 3])
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"detail": "busy"}', {
      status: 503, headers: { 'content-type': 'application/json', 'retry-after': '2' },
    })))
    expect(await api.predict('m1', [{ subject: 's', body: 'b' }]).catch((e) => e)).toMatchObject({ status: 503, retryAfter: 2 })
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
