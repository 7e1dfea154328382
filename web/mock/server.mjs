// A tiny stand-in for the Avocet API, for developing the web view without Redis or a worker (datasets, published
// models and predict: mock/catalog.mjs).
// Serves web/dist at / and fakes the endpoints of docs/contracts.md; a job "trains" for ~12 s, after which the
// "worker" queues a benchmark by itself (source "worker"). Input rules come from src/generated/openapi.json.
// Usage: npm run build-only && PORT=8765 node mock/server.mjs   (curl -N localhost:8765/api/jobs/<id>/events)
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { randomUUID } from 'node:crypto'
import * as catalog from './catalog.mjs'

const DIST = new URL('../dist/', import.meta.url).pathname
const PORT = Number(process.env.PORT ?? 8765)
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }
const LABELS = ['interview', 'offer', 'rejection', 'recruiter', 'newsletter', 'other']
const now = () => new Date().toISOString()
const jobs = new Map() // id -> { job, events, listeners }
const PARAMS = JSON.parse(readFileSync(new URL('../src/generated/openapi.json', import.meta.url), 'utf8'))
  .components.schemas.FinetuneParams.properties
const rule = (prop, key) => prop[key] ?? prop.anyOf?.find((b) => key in b)?.[key]
const EPOCHS = { min: rule(PARAMS.epochs, 'minimum'), max: rule(PARAMS.epochs, 'maximum') }
const NAME = new RegExp(rule(PARAMS.name, 'pattern'))
const trained = []
const runs = []

const base = (key, description, base_model, max_tokens, learning_rate, isDefault) =>
  ({ key, description, base_model, max_tokens, learning_rate, gradient_checkpointing: !isDefault, default: isDefault })
const MODELS = [ // BaseModelInfo
  base('minilm', 'Small and fast; trains on CPU', 'sentence-transformers/all-MiniLM-L6-v2', 256, 5e-5, true),
  base('deberta-small', 'NLI-tuned DeBERTa v3 small', 'cross-encoder/nli-deberta-v3-small', 512, 3e-5, false),
  base('bge-m3', 'Multilingual; needs a GPU', 'BAAI/bge-m3', 512, 2e-5, false),
]

function emit(entry, type, message, data = {}) {
  const ev = { id: entry.events.length + 1, ts: now(), type, message, data }
  entry.events.push(ev)
  entry.job.last_event_id = ev.id
  for (const send of entry.listeners) send(ev)
}

function newJob(kind, model, epochs, name, source = 'api') {
  const id = randomUUID()
  const job = {
    id, kind, model, epochs, name: name ?? null, state: 'queued', submitted_at: now(), started_at: null,
    finished_at: null, queue_position: 0, progress: null, result: null, error: null, last_event_id: 0, source,
  }
  const entry = { job, events: [], listeners: new Set() }
  jobs.set(id, entry)
  return entry
}

function startJob({ model, epochs, name, data, hyperparameters }) {
  const entry = newJob('finetune', model, epochs, name)
  Object.assign(entry.job, { data: data ?? 'score-file', hyperparameters: { batch_size: 16, ...hyperparameters } })
  const job = entry.job
  emit(entry, 'queued', `Queued ${model} for ${epochs} epoch(s)`)
  const total = 8 * epochs
  let step = 0
  setTimeout(() => {
    Object.assign(job, { state: 'running', started_at: now(), queue_position: null })
    emit(entry, 'started', 'Worker picked up the job')
    emit(entry, 'start', `Fine-tuning ${model}`, { model, device: 'cpu', samples: 120, train_samples: 96, val_samples: 24 })
    const timer = setInterval(() => {
      if (job.state !== 'running') return clearInterval(timer)
      step += 1
      const loss = 1.8 * Math.exp(-step / total * 2)
      job.progress = { epoch: step / 8, step, total, loss, f1: job.progress?.f1 ?? null, accuracy: null }
      emit(entry, 'progress', '', { epoch: step / 8, step, total, loss, learning_rate: 2e-5 })
      if (step % 8 === 0) {
        const f1 = Math.min(0.95, 0.45 + step / total * 0.4)
        job.progress.f1 = f1
        emit(entry, 'eval', `epoch ${step / 8}: val macro-F1 ${f1.toFixed(3)}`, { epoch: step / 8, step, total, f1, accuracy: f1 + 0.05 })
      }
      if (step >= total) {
        clearInterval(timer)
        const result = { name: name ?? `${model}-${trained.length + 1}`, val_macro_f1: job.progress.f1, model_dir: 'models/x' }
        Object.assign(job, { state: 'succeeded', finished_at: now(), result })
        trained.unshift({ name: result.name, base_model: model, val_macro_f1: result.val_macro_f1, timestamp: now(), sample_count: 120 })
        catalog.publish(result.name, model, result.val_macro_f1, LABELS, data)
        emit(entry, 'complete', `Saved ${result.name}`, result)
        startBenchmark('worker') // the worker's follow-up, never the browser's
      }
    }, 350)
  }, 1500)
  return job
}

function benchmarkRun() {
  const r = (name, kind, f1, ms) => ({
    name, kind, available: true, reason: null, macro_f1: f1, accuracy: Math.min(1, f1 + 0.06), ms_per_email: ms,
    per_class_f1: Object.fromEntries(LABELS.map((l, i) => [l, Math.max(0, Math.min(1, f1 + ((i * 37) % 11 - 5) / 40))])), labels: LABELS,
  })
  return {
    id: randomUUID(), timestamp: now(), data_file: 'data/email_score.jsonl.example', rows: 120, split_seed: 42,
    results: [
      ...trained.map((t) => r(t.name, 'finetuned', t.val_macro_f1, 6.2)),
      r('tfidf-logreg', 'tfidf', 0.58, 0.3), r('minilm-embed-knn', 'embedding', 0.63, 4.1),
      r('deberta-nli', 'zeroshot_nli', 0.49, 48.5),
      { name: 'bge-m3-nli', kind: 'zeroshot_nli', available: false, reason: 'model weights not installed', macro_f1: null, accuracy: null, ms_per_email: null, per_class_f1: null, labels: null },
    ],
  }
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function sse(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  return (ev) => res.write(`id: ${ev.id}\ndata: ${JSON.stringify(ev)}\n\n`)
}

async function readText(req) {
  let text = ''
  for await (const chunk of req) text += chunk
  return text
}
const readBody = async (req) => JSON.parse((await readText(req)) || '{}')

/** The file of a multipart upload (field `file`) or a raw body, with its name. */
async function readUpload(req, url) {
  const text = await readText(req)
  const part = text.match(/filename="([^"]*)"\r?\n(?:[^\r\n]+\r?\n)*\r?\n([\s\S]*?)\r?\n--/)
  return part ? [part[2], part[1]] : [text, url.searchParams.get('name') ?? 'dataset.jsonl']
}

/** Datasets, published models and predict (mock/catalog.mjs): [status, body], or null for other paths. */
async function catalogRoute(req, url) {
  const p = url.pathname
  const model = p.match(/^\/api\/models\/([^/]+)(\/rollback|\/predict)?$/)
  const dataset = p.match(/^\/api\/datasets\/([^/]+)$/)
  const found = (v) => (v ? [200, v] : [404, { detail: 'Not Found' }])
  if (p === '/api/session') return [200, { token_required: false, signed_in: true }]
  if (p === '/api/base-models') return [200, MODELS]
  if (p === '/api/models') return [200, catalog.listModels()]
  if (p === '/api/datasets' && req.method === 'POST') return catalog.upload(...(await readUpload(req, url)))
  if (p === '/api/datasets') return [200, catalog.listDatasets()]
  if (dataset) return found(catalog.datasetDetail(dataset[1]))
  if (model && model[2] === '/rollback') return found(catalog.rollback(model[1], (await readBody(req)).version))
  if (model && model[2] === '/predict') {
    const body = await readBody(req)
    return found(catalog.predict(model[1], body.emails ?? [], body.top_k))
  }
  return model ? found(catalog.modelDetail(model[1])) : null
}

/** The FastAPI 422 detail for a fine-tune body that breaks the schema's rules, or null. */
function problem(body) {
  const at = (field, msg) => [{ loc: ['body', field], msg }]
  if (!MODELS.some((x) => x.key === body.model)) return at('model', `unknown model '${body.model}'`)
  if (!Number.isInteger(body.epochs) || body.epochs < EPOCHS.min || body.epochs > EPOCHS.max) {
    return at('epochs', `Input should be between ${EPOCHS.min} and ${EPOCHS.max}`)
  }
  if (body.name != null && !NAME.test(body.name)) return at('name', `String should match pattern '${NAME.source}'`)
  return null
}

function cancel(res, entry) {
  if (!entry) return json(res, 404, { detail: 'No such job.' })
  if (!['queued', 'running'].includes(entry.job.state)) return json(res, 409, { detail: `job has already ended (${entry.job.state})` })
  Object.assign(entry.job, { state: 'cancelled', finished_at: now(), queue_position: null })
  emit(entry, 'error', 'Cancelled by request', { state: 'cancelled' })
  return json(res, 202, entry.job)
}

function listJobs(url, kinds = ['finetune', 'benchmark']) {
  const kind = url.searchParams.get('kind')
  const limit = Number(url.searchParams.get('limit') ?? 50)
  return [...jobs.values()].map((e) => e.job).reverse().filter((j) => kinds.includes(j.kind) && (!kind || j.kind === kind)).slice(0, limit)
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://x')
  const p = url.pathname
  // /api/jobs/{id}[/events|/cancel]; the seed's /api/finetune/jobs/{id}... paths answer the same
  const m = p.match(/^\/api\/(?:finetune\/)?jobs\/([^/]+)(\/events|\/cancel|\/log)?$/)
  if (p === '/api/health') {
    const count = (s) => [...jobs.values()].filter((e) => e.job.state === s).length
    return json(res, 200, { status: 'ok', redis: true, workers: ['mock@localhost'], queue_length: count('queued'), running: count('running') })
  }
  const answer = await catalogRoute(req, url)
  if (answer) return json(res, ...answer)
  if (p === '/api/finetune/status') return json(res, 200, trained)
  if (p === '/api/benchmark/results') return json(res, 200, { latest: runs[0] ?? null, history: runs })
  if (p === '/api/finetune/jobs' && req.method === 'POST') {
    const body = { epochs: rule(PARAMS.epochs, 'default'), ...(await readBody(req)) }
    const detail = problem(body)
    return detail ? json(res, 422, { detail }) : json(res, 202, startJob(body))
  }
  if (p === '/api/benchmark/jobs' && req.method === 'POST') return json(res, 202, startBenchmark('api').job)
  if (p === '/api/jobs' || p === '/api/finetune/jobs') return json(res, 200, listJobs(url))
  if (m && !m[2]) return jobs.has(m[1]) ? json(res, 200, jobs.get(m[1]).job) : json(res, 404, { detail: 'No such job.' })
  if (m && m[2] === '/cancel' && req.method === 'POST') return cancel(res, jobs.get(m[1]))
  if (m && m[2] === '/events') return streamJob(req, res, jobs.get(m[1]), url)
  if (m && m[2] === '/log') return readLog(res, jobs.get(m[1]), url)
  if (p === '/api/benchmark/run') return streamJob(req, res, startBenchmark('api'), url) // seed contract only
  if (p.startsWith('/api/')) return json(res, 404, { detail: 'Not Found' })
  const file = normalize(join(DIST, p === '/' ? 'index.html' : p))
  try {
    const body = await readFile(file.startsWith(DIST) ? file : join(DIST, 'index.html'))
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    res.end(body)
  } catch {
    res.writeHead(404).end('not found')
  }
}

function startBenchmark(source) {
  const entry = newJob('benchmark', null, null, null, source)
  emit(entry, 'queued', source === 'worker' ? 'Queued a benchmark after the fine-tune' : 'Queued a benchmark')
  const steps = ['Loading data/email_score.jsonl.example (120 rows)', 'Scoring tfidf-logreg', 'Scoring minilm-embed-knn', 'Scoring deberta-nli', ...trained.map((t) => `Scoring ${t.name}`)]
  Object.assign(entry.job, { state: 'running', started_at: now(), queue_position: null })
  const timer = setInterval(() => {
    if (steps.length) return emit(entry, 'progress', steps.shift())
    clearInterval(timer)
    runs.unshift(benchmarkRun())
    Object.assign(entry.job, { state: 'succeeded', finished_at: now() })
    emit(entry, 'complete', 'Saved models/benchmark_results.json', { results_file: 'models/benchmark_results.json', rows: 120 })
  }, 300)
  return entry
}

function readLog(res, entry, url) {
  if (!entry) return json(res, 404, { detail: 'No such job.' })
  const after = Number(url.searchParams.get('after') ?? 0)
  const limit = Number(url.searchParams.get('limit') ?? 200)
  const events = entry.events.filter((e) => e.id > after)
  const page = events.slice(0, limit)
  return json(res, 200, { events: page, next_after: page.at(-1)?.id ?? after, has_more: events.length > limit, state: entry.job.state })
}

function streamJob(req, res, entry, url) {
  if (!entry) return json(res, 404, { detail: 'No such job.' })
  const after = Number(req.headers['last-event-id'] ?? url.searchParams.get('last_event_id') ?? 0)
  const ended = !['queued', 'running'].includes(entry.job.state)
  if (ended && after >= entry.job.last_event_id) return res.writeHead(204).end() // nothing left: do not reconnect
  const send = sse(res)
  const out = (ev) => {
    send(ev)
    if (ev.type === 'complete' || ev.type === 'error') { entry.listeners.delete(out); res.end() }
  }
  for (const ev of entry.events.filter((e) => e.id > after)) out(ev)
  if (!res.writableEnded) { entry.listeners.add(out); req.on('close', () => entry.listeners.delete(out)) }
}

if (process.env.MOCK_SEED !== '0') runs.unshift(benchmarkRun())
createServer((req, res) => handle(req, res).catch((e) => json(res, 500, { detail: String(e) })))
  .listen(PORT, '127.0.0.1', () => console.log(`mock Avocet API on http://127.0.0.1:${PORT}`))
