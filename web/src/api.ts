/** The one client of the Avocet API: typed fetch helpers, readable errors, stream URLs and the optional token. */
import { ref } from 'vue'
import type {
  BenchmarkResults, Health, Job, ModelOption, TrainedModel,
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

export const api = {
  health: () => request<Health>('/api/health', {}, [503]), // 503 still describes what is down
  models: () => request<ModelOption[]>('/api/models'),
  trained: () => request<TrainedModel[]>('/api/finetune/status'),
  jobs: () => request<Job[]>('/api/finetune/jobs'),
  job: (id: string) => request<Job>(`/api/finetune/jobs/${encodeURIComponent(id)}`),
  startJob: (body: { model: string; epochs: number; name?: string }) =>
    request<Job>('/api/finetune/jobs', { method: 'POST', body: JSON.stringify(body) }),
  cancelJob: (id: string) =>
    request<Job>(`/api/finetune/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' }),
  benchmarkResults: () => request<BenchmarkResults>('/api/benchmark/results'),
  jobEventsUrl: (id: string, lastEventId = 0) =>
    streamUrl(`/api/finetune/jobs/${encodeURIComponent(id)}/events`, lastEventId ? { last_event_id: lastEventId } : {}),
  benchmarkRunUrl: () => streamUrl('/api/benchmark/run', { save: 'true' }),
}
