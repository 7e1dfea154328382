/**
 * The API's shapes: aliases of the types generated from its OpenAPI schema (`scripts/gen-web-types` writes
 * src/generated/), plus the few the schema does not describe, written from docs/contracts.md.
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
export type BenchmarkParams = Schemas['BenchmarkParams']

/** One event of a job's stream (docs/contracts.md "Events"; SSE, so not in the schema). */
export interface JobEvent {
  id: number
  ts: string
  type: string
  message: string
  data: Record<string, any>
}

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
