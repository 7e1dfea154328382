// The mock API's datasets, published models (versions, training_info, card) and predict, for mock/server.mjs.
// Shapes follow src/generated/openapi.json and docs/contracts.md; numbers are made up.
import { createHash } from 'node:crypto'

const now = () => new Date().toISOString()
const datasets = []
const models = new Map() // name -> { versions: [{ version, info }], current }

/** Rows of a JSONL text, or the 422 detail naming its bad lines. */
function parse(text) {
  const rows = []
  const errors = []
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return
    try {
      const row = JSON.parse(line)
      if (typeof row.label !== 'string' || !row.label) throw new Error("field 'label' is missing")
      rows.push({ line: i + 1, subject: String(row.subject ?? ''), body: String(row.body ?? ''), label: row.label })
    } catch (e) {
      errors.push({ line: i + 1, problem: e instanceof SyntaxError ? 'not valid JSON' : e.message })
    }
  })
  if (errors.length) return { detail: { message: `${errors.length} bad lines, first at line ${errors[0].line}`, errors: errors.slice(0, 20) } }
  return rows.length ? { rows } : { detail: { message: 'the file holds no rows', errors: [] } }
}

export function upload(text, name) {
  const parsed = parse(text)
  if (parsed.detail) return [422, { detail: parsed.detail }]
  const sha256 = createHash('sha256').update(text).digest('hex')
  const found = datasets.find((d) => d.sha256 === sha256)
  if (found) return [200, summary(found)]
  const labels = {}
  for (const r of parsed.rows) labels[r.label] = (labels[r.label] ?? 0) + 1
  const ds = { id: `ds-${sha256.slice(0, 16)}`, name, sha256, size_bytes: text.length, rows: parsed.rows.length, labels,
    created_at: now(), source: 'upload', _rows: parsed.rows }
  datasets.unshift(ds)
  return [201, summary(ds)]
}

const summary = ({ _rows, ...d }) => d
export const listDatasets = () => datasets.map(summary)
export function datasetDetail(id) {
  const d = datasets.find((x) => x.id === id)
  if (!d) return null
  const few = Object.entries(d.labels).filter(([, n]) => n < 2)
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  const stats = (xs) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) })
  return { ...summary(d), label_set: Object.keys(d.labels).sort(),
    dropped: few.map(([label, rows]) => ({ label, rows, why: 'fewer than 2 rows: cannot be split' })),
    text_stats: { subject_chars: stats(d._rows.map((r) => r.subject.length)), body_chars: stats(d._rows.map((r) => r.body.length)) },
    preview: d._rows.slice(0, 5) }
}

/** A fine-tune published `name` (a new version when it exists). */
export function publish(name, baseModel, f1, labels, data) {
  const entry = models.get(name) ?? { versions: [], current: 0 }
  const version = entry.versions.length + 1
  const matrix = labels.map((_, i) => labels.map((_, j) => (i === j ? 4 : (i + j) % 3 === 0 ? 1 : 0)))
  const info = { name, model_key: baseModel, timestamp: now(), val_macro_f1: f1, val_accuracy: Math.min(1, f1 + 0.04),
    labels, per_class_f1: Object.fromEntries(labels.map((l, i) => [l, Math.max(0, Math.min(1, f1 + ((i * 37) % 11 - 5) / 40))])),
    confusion_matrix: matrix, dataset: { id: data ?? 'score-file' }, epochs_run: 1 }
  entry.versions.push({ version, info })
  entry.current = version
  models.set(name, entry)
}

const card = (info) => `---\nlibrary_name: transformers\n---\n\n# avocet-${info.name}\n\nFine-tuned from \`${info.model_key}\` (mock).\n\n` +
  `## Validation scores\n\n- macro-F1: ${info.val_macro_f1.toFixed(3)}\n\n| label | F1 |\n| --- | ---: |\n` +
  Object.entries(info.per_class_f1).map(([l, v]) => `| ${l} | ${v.toFixed(3)} |`).join('\n') + '\n'

function published(name) {
  const { versions, current } = models.get(name)
  const info = versions.find((v) => v.version === current).info
  return { name, current_version: current, versions: versions.length, base_model: info.model_key,
    val_macro_f1: info.val_macro_f1, val_accuracy: info.val_accuracy, timestamp: info.timestamp }
}

export const listModels = () => [...models.keys()].map(published)
export function modelDetail(name) {
  const entry = models.get(name)
  if (!entry) return null
  const info = entry.versions.find((v) => v.version === entry.current).info
  const version_list = [...entry.versions].reverse().map(({ version, info: i }) => ({ version, current: version === entry.current,
    timestamp: i.timestamp, base_model: i.model_key, val_macro_f1: i.val_macro_f1, val_accuracy: i.val_accuracy, dataset_id: i.dataset.id, epochs_run: 1 }))
  return { ...published(name), version_list, training_info: info, card: card(info) }
}

export function rollback(name, version) {
  const entry = models.get(name)
  if (!entry?.versions.some((v) => v.version === version)) return null
  entry.current = version
  return modelDetail(name)
}

export function predict(name, emails, topK = 3) {
  const detail = modelDetail(name)
  if (!detail) return null
  const labels = detail.training_info.labels
  const predictions = emails.map(({ subject, body }) => {
    const seed = [...`${subject}${body}`].reduce((n, c) => n + c.charCodeAt(0), 0)
    const raw = labels.map((_, i) => 1 + ((seed * (i + 3)) % 17))
    const sum = raw.reduce((a, b) => a + b, 0)
    const top = labels.map((label, i) => ({ label, score: raw[i] / sum })).sort((a, b) => b.score - a.score).slice(0, topK)
    return { ...top[0], top }
  })
  return { model: name, version: detail.current_version, labels, predictions }
}
