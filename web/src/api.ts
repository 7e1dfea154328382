/** The one client of the Avocet API: typed fetch helpers, readable errors, stream URLs and signing in. */
import { ref } from 'vue'
import type { paths } from './generated/schema'
import type {
  BaseModelInfo, BenchmarkParams, BenchmarkResults, Dataset, DatasetDetail, EmailText, EventPage, FinetuneParams,
  Health, Job, JobEvent, ModelDetail, PredictResult, PublishedModel, SessionState,
} from './types'
import type { AuditBody, ScoreBody } from './review/types'
import { parseJsonl, type ParsedRows, type RowGuard } from './utils/jsonl'

const GATEWAY_DOWN = [502, 503, 504]

/** False while the API cannot be reached (network error or a proxy's 502-504): the page shows one banner then. */
export const apiReachable = ref(true)
/** True while the API wants its token: App.vue shows the sign-in form; requests that met a 401 wait for it. */
export const signInNeeded = ref(false)

/** An API failure with a message a person can act on, and the parts a caller may show (detail, Retry-After). */
export class ApiError extends Error {
  constructor(message: string, readonly status: number | null = null, readonly detail: unknown = null,
    readonly retryAfter: number | null = null) {
    super(message)
    this.name = 'ApiError'
  }
}

/**
 * With AVOCET_API_TOKEN set the API answers 401 until this browser signs in: the token is typed into the page once
 * and traded for an HttpOnly session cookie (POST /api/session) that fetch and EventSource send by themselves, so it
 * is kept neither in page storage nor in URLs. Every request that met a 401 waits for that one sign-in, then retries
 * once (a second 401 is an error, never a loop).
 */
let waiting: { promise: Promise<void>; resolve: () => void } | null = null

function awaitSignIn(): Promise<void> {
  if (!waiting) {
    let resolve = () => {}
    const promise = new Promise<void>((r) => { resolve = r })
    waiting = { promise, resolve }
  }
  signInNeeded.value = true
  return waiting.promise
}

/** Turns a FastAPI `detail` (a string, `{message}`, or a list of `{loc, msg}`) into one sentence. */
export function describeDetail(detail: unknown): string | null {
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail)) {
    const parts = detail.map((d) => {
      const loc = Array.isArray(d?.loc) ? d.loc.filter((p: unknown) => p !== 'body').join('.') : ''
      return loc ? `${loc}: ${d?.msg ?? 'invalid'}` : String(d?.msg ?? d)
    })
    return parts.join('; ') || null
  }
  if (detail && typeof detail === 'object' && 'message' in detail) return String(detail.message)
  return null
}

async function failure(res: Response, path: string): Promise<ApiError> {
  const body = await res.json().catch(() => null)
  const retry = Number(res.headers.get('retry-after'))
  const message = describeDetail(body?.detail) ?? `The API answered ${res.status} ${res.statusText} for ${path}.`
  return new ApiError(message, res.status, body?.detail ?? null, Number.isFinite(retry) && retry > 0 ? retry : null)
}

/** The API's answer to `path`, once it is one the caller takes (ok or in `acceptStatus`); else an ApiError. */
async function respond(path: string, init: RequestInit = {}, acceptStatus: number[] = [], retried = false): Promise<Response> {
  const headers = new Headers(init.headers)
  if (typeof init.body === 'string') headers.set('Content-Type', 'application/json')
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
  if (res.status === 401 && !retried) {
    await awaitSignIn()
    return respond(path, init, acceptStatus, true)
  }
  if (!res.ok && !acceptStatus.includes(res.status)) throw await failure(res, path)
  return res
}

async function request<T>(path: string, init: RequestInit = {}, acceptStatus: number[] = [], retried = false): Promise<T> {
  const res = await respond(path, init, acceptStatus, retried)
  return (res.status === 204 ? null : await res.json()) as T
}

/** An EventSource URL with extra query parameters (the session cookie, not the URL, carries access). */
export function streamUrl(path: string, params: Record<string, string | number> = {}): string {
  const url = new URL(path, typeof location === 'undefined' ? 'http://localhost' : location.origin)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v))
  return url.pathname + url.search
}

/** A path of the generated schema that answers `method`: a route the API drops or renames fails the type check. */
type Method = 'get' | 'post' | 'delete'
type Route<M extends Method> = { [P in keyof paths]: paths[P][M] extends undefined ? never : P }[keyof paths]
type JobsQuery = NonNullable<paths['/api/jobs']['get']['parameters']['query']>

/** A route with its `{placeholders}` filled in (URL-encoded) and an optional query string. */
export function routeUrl(route: string, params: Record<string, string> = {}, query: object = {}): string {
  const path = route.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(params[key] ?? ''))
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v != null) search.set(k, String(v))
  const qs = search.toString()
  return qs ? `${path}?${qs}` : path
}
const get = (route: Route<'get'>, params?: Record<string, string>, query?: object) => routeUrl(route, params, query)
const post = (route: Route<'post'>, params?: Record<string, string>) => routeUrl(route, params)
const del = (route: Route<'delete'>, params?: Record<string, string>) => routeUrl(route, params)
const send = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) })

/** Sign in with the API token; resolves the requests waiting on a 401. Throws ApiError (401) for a wrong token. */
async function signIn(token: string): Promise<SessionState> {
  const state = await request<SessionState>(post('/api/session'), send({ token }), [], true)
  signInNeeded.value = false
  waiting?.resolve()
  waiting = null
  return state
}

/** Every event of a job's log (GET .../log, paged): a finished run's curves without holding a stream open. */
async function allEvents(id: string): Promise<JobEvent[]> {
  const events: JobEvent[] = []
  for (let after = 0, more = true; more;) {
    const page = await request<EventPage>(get('/api/jobs/{job_id}/log', { job_id: id }, { after, limit: 1000 }))
    events.push(...page.events)
    more = page.has_more && page.next_after > after
    after = page.next_after
  }
  return events
}

/** A page of jobs, newest first; `nextBefore` (the X-Next-Before header) is the cursor for older ones, or null. */
async function jobsPage(query: JobsQuery = {}): Promise<{ jobs: Job[]; nextBefore: string | null }> {
  const res = await respond(get('/api/jobs', {}, query))
  return { jobs: (await res.json()) as Job[], nextBefore: res.headers.get('x-next-before') || null }
}

/** Where a job's result file downloads from (JSONL; `limit` rows at most, every row without it). */
function resultsUrl(id: string, name: string, limit?: number): string {
  return get('/api/jobs/{job_id}/results', { job_id: id }, { name, limit })
}

/** A job's result file read into rows the guard accepts (409 while the job has none yet, 404 naming what is missing). */
async function jobResults<T>(id: string, name: string, guard: RowGuard<T>, limit?: number): Promise<ParsedRows<T>> {
  const res = await respond(resultsUrl(id, name, limit))
  return parseJsonl(await res.text(), guard)
}

function uploadDataset(file: File): Promise<Dataset> {
  const form = new FormData()
  form.append('file', file, file.name)
  return request<Dataset>(post('/api/datasets'), { method: 'POST', body: form })
}

export const api = {
  health: () => request<Health>(get('/api/health'), {}, [503]), // 503 still describes what is down
  session: () => request<SessionState>(get('/api/session')),
  signIn,
  signOut: () => request<null>(del('/api/session'), { method: 'DELETE' }),
  baseModels: () => request<BaseModelInfo[]>(get('/api/base-models')),
  models: () => request<PublishedModel[]>(get('/api/models')),
  model: (name: string) => request<ModelDetail>(get('/api/models/{name}', { name })),
  rollback: (name: string, version: number) =>
    request<ModelDetail>(post('/api/models/{name}/rollback', { name }), send({ version })),
  /** 409 for the current version (roll back first). */
  deleteVersion: (name: string, version: number) =>
    request<null>(del('/api/models/{name}/versions/{version}', { name, version: String(version) }), { method: 'DELETE' }),
  deleteModel: (name: string) => request<null>(del('/api/models/{name}', { name }), { method: 'DELETE' }),
  predict: (name: string, emails: EmailText[], topK = 3) =>
    request<PredictResult>(post('/api/models/{name}/predict', { name }), send({ emails, top_k: topK })),
  datasets: () => request<Dataset[]>(get('/api/datasets')),
  dataset: (id: string) => request<DatasetDetail>(get('/api/datasets/{dataset_id}', { dataset_id: id })),
  uploadDataset,
  /** 409 while a queued or running job uses it, and for the score file. */
  deleteDataset: (id: string) => request<null>(del('/api/datasets/{dataset_id}', { dataset_id: id }), { method: 'DELETE' }),
  /** Every kind, newest first. */
  jobs: (query: JobsQuery = {}) => request<Job[]>(get('/api/jobs', {}, query)),
  jobsPage,
  job: (id: string) => request<Job>(get('/api/jobs/{job_id}', { job_id: id })),
  allEvents,
  startFinetune: (body: FinetuneParams) => request<Job>(post('/api/finetune/jobs'), send(body)),
  startBenchmark: (body: BenchmarkParams = {}) => request<Job>(post('/api/benchmark/jobs'), send(body)),
  cancelJob: (id: string) => request<Job>(post('/api/jobs/{job_id}/cancel', { job_id: id }), { method: 'POST' }),
  /** Label audit of a dataset's labelled rows: 202 with the queued job. */
  startAudit: (datasetId: string, body: AuditBody = {}) =>
    request<Job>(post('/api/datasets/{dataset_id}/audit', { dataset_id: datasetId }), send(body)),
  /** Predictions for every row of `body.data` with a published model, and the label-next ranking. */
  startScore: (name: string, body: ScoreBody) => request<Job>(post('/api/models/{name}/score', { name }), send(body)),
  resultsUrl,
  jobResults,
  benchmarkResults: () => request<BenchmarkResults>(get('/api/benchmark/results')),
  jobEventsUrl: (id: string, lastEventId = 0) =>
    streamUrl(get('/api/jobs/{job_id}/events', { job_id: id }), lastEventId ? { last_event_id: lastEventId } : {}),
}
