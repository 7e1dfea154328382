/**
 * The API's shapes: aliases of the types generated from its OpenAPI schema (`scripts/gen-web-types` writes
 * src/generated/), plus the few the schema leaves free-form, written from docs/contracts.md.
 */
import type { components } from './generated/schema'

type Schemas = components['schemas']

export type Job = Schemas['Job']
export type JobState = Job['state']
export type JobKind = Job['kind']
export type JobProgress = Schemas['Progress']
export type BaseModelInfo = Schemas['BaseModelInfo']
export type ModelStatus = Schemas['ModelStatus']
export type Health = Schemas['Health']
export type FinetuneParams = Schemas['FinetuneParams']
export type Hyperparameters = Schemas['Hyperparameters']
export type BenchmarkParams = Schemas['BenchmarkParams']
export type Dataset = Schemas['Dataset']
export type PublishedModel = Schemas['PublishedModel']
export type VersionInfo = Schemas['VersionInfo']
export type SessionState = Schemas['SessionState']
export type EventPage = Omit<Schemas['EventPage'], 'events'> & { events: JobEvent[] }

/** One event of a job's stream (docs/contracts.md "Events"; SSE, so not in the schema). */
export interface JobEvent {
  id: number
  ts: string
  type: string
  message: string
  data: Record<string, any>
}

/** A line of an upload the API refused (422 detail.errors). */
export interface UploadProblem { line: number; problem: string }
export interface DroppedLabel { label: string; rows: number; why: string }
export interface PreviewRow { line: number; subject: string; body: string; label: string }
export type TextStats = { min: number; median: number; max: number }

/** GET /api/datasets/{id}: the free-form parts read as docs/contracts.md describes them. */
export interface DatasetDetail extends Omit<Schemas['DatasetDetail'], 'dropped' | 'preview' | 'text_stats'> {
  dropped: DroppedLabel[]
  preview: PreviewRow[]
  text_stats: { subject_chars?: TextStats; body_chars?: TextStats }
}

/** training_info.json of a published version (the parts the model page shows). */
export interface TrainingInfo {
  labels?: string[]
  per_class_f1?: Record<string, number>
  confusion_matrix?: number[][] | { labels: string[]; matrix: number[][] }
  hyperparameters?: Record<string, unknown>
  [key: string]: unknown
}

export interface ModelDetail extends Omit<Schemas['ModelDetail'], 'training_info'> {
  training_info: TrainingInfo
}

/** POST /api/models/{name}/predict. */
export type EmailText = Schemas['EmailIn']
export type LabelScore = Schemas['LabelScore']
export type Prediction = Schemas['Prediction']
export type PredictResult = Schemas['PredictResponse']

/** docs/contracts.md "Benchmark results file": the schema types a run as a free-form object. */
export type BenchmarkResult = {
  name: string
  kind: 'finetuned' | 'zeroshot_nli' | 'embedding' | 'tfidf'
  available: boolean
  reason: string | null
  macro_f1: number | null
  accuracy: number | null
  ms_per_email: number | null
  per_class_f1: Record<string, number> | null
  labels: string[] | null
}

export type BenchmarkRun = {
  id: string
  timestamp: string
  data_file: string
  rows: number
  split_seed: number
  results: BenchmarkResult[]
}

type GeneratedResults = Schemas['BenchmarkResults']

/** GET /api/benchmark/results, its runs read as BenchmarkRun (checked against the generated shape). */
export interface BenchmarkResults extends GeneratedResults {
  latest: BenchmarkRun | null
  history: BenchmarkRun[]
}
