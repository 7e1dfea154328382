/** The one client of the Avocet API: typed fetch helpers, readable errors, stream URLs and the optional token. */
import { ref } from 'vue'
import type { paths } from './generated/schema'
import type {
  BaseModelInfo, BenchmarkParams, BenchmarkResults, FinetuneParams, Health, Job, ModelStatus,
} from './types'

export const TOKEN_KEY = 'avocet_api_token'
const GATEWAY_DOWN = [502, 503, 504]

/** False while the API cannot be reached (network error or a proxy's 502-504): the page shows one banner then. */
export const apiReachable = ref(true)

/** An API failure with a message a person can act on. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message)
    this.name = 'ApiError'
  }
}

function token(): string | null {
  try {
    return globalThis.localStorage?.getItem(TOKEN_KEY) || null
  } catch {
    return null
  }
}

/** Turns a FastAPI `detail` (a string, or a list of `{loc, msg}`) into one sentence. */
export function describeDetail(detail: unknown): string | null {
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail)) {
    const parts = detail.map((d) => {
      const loc = Array.isArray(d?.loc) ? d.loc.filter((p: unknown) => p !== 'body').join('.') : ''
      return loc ? `${loc}: ${d?.msg ?? 'invalid'}` : String(d?.msg ?? d)
    })
    return parts.join('; ') || null
  }
  return null
}

async function request<T>(path: string, init: RequestInit = {}, acceptStatus: number[] = []): Promise<T> {
  const headers = new Headers(init.headers)
  const t = token()
  if (t) headers.set('Authorization', `Bearer ${t}`)
  if (init.body) headers.set('Content-Type', 'application/json')
  let res: Response
  try {
    res = await fetch(path, { ...init, headers })
  } catch {
    apiReachable.value = false
    throw new ApiError('Cannot reach the API: check that the server is running, then retry.')
  }
  const proxyDown = GATEWAY_DOWN.includes(res.status) && !res.headers.get('content-type')?.includes('json')
  apiReachable.value = !proxyDown
  if (proxyDown) throw new ApiError(`The API is not answering (${res.status}): check that the server is running.`, res.status)
  if (!res.ok && !acceptStatus.includes(res.status)) {
    let detail: string | null = null
    try {
      detail = describeDetail((await res.json())?.detail)
    } catch {
      /* not JSON */
    }
    if (res.status === 401 || res.status === 403) {
      detail = `${detail ?? 'Not authorised'} (set the API token in localStorage key "${TOKEN_KEY}").`
    }
    throw new ApiError(detail ?? `The API answered ${res.status} ${res.statusText} for ${path}.`, res.status)
  }
  return (await res.json()) as T
}

/** An EventSource URL with the token (EventSource cannot send headers) and any extra query parameters. */
export function streamUrl(path: string, params: Record<string, string | number> = {}): string {
  const url = new URL(path, typeof location === 'undefined' ? 'http://localhost' : location.origin)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v))
  const t = token()
  if (t) url.searchParams.set('token', t)
  return url.pathname + url.search
}

/** A path of the generated schema that answers `method`: a route the API drops or renames fails the type check. */
type Route<M extends 'get' | 'post'> = { [P in keyof paths]: paths[P][M] extends undefined ? never : P }[keyof paths]
type JobsQuery = NonNullable<paths['/api/jobs']['get']['parameters']['query']>

/** A route with its `{placeholders}` filled in (URL-encoded) and an optional query string. */
export function routeUrl(route: keyof paths, params: Record<string, string> = {}, query: object = {}): string {
  const path = route.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(params[key] ?? ''))
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v != null) search.set(k, String(v))
  const qs = search.toString()
  return qs ? `${path}?${qs}` : path
}
const get = (route: Route<'get'>, params?: Record<string, string>, query?: object) => routeUrl(route, params, query)
const post = (route: Route<'post'>, params?: Record<string, string>) => routeUrl(route, params)
const send = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) })

export const api = {
  health: () => request<Health>(get('/api/health'), {}, [503]), // 503 still describes what is down
  models: () => request<BaseModelInfo[]>(get('/api/models')),
  trained: () => request<ModelStatus[]>(get('/api/finetune/status')),
  /** Both kinds, newest first. */
  jobs: (query: JobsQuery = {}) => request<Job[]>(get('/api/jobs', {}, query)),
  job: (id: string) => request<Job>(get('/api/jobs/{job_id}', { job_id: id })),
  startFinetune: (body: FinetuneParams) => request<Job>(post('/api/finetune/jobs'), send(body)),
  startBenchmark: (body: BenchmarkParams = {}) => request<Job>(post('/api/benchmark/jobs'), send(body)),
  cancelJob: (id: string) => request<Job>(post('/api/jobs/{job_id}/cancel', { job_id: id }), { method: 'POST' }),
  benchmarkResults: () => request<BenchmarkResults>(get('/api/benchmark/results')),
  jobEventsUrl: (id: string, lastEventId = 0) =>
    streamUrl(get('/api/jobs/{job_id}/events', { job_id: id }), lastEventId ? { last_event_id: lastEventId } : {}),
}
