/** Shapes shared with the API; see docs/contracts.md. */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export interface JobEvent {
  id: number
  ts: string
  type: string
  message: string
  data: Record<string, any>
}

export interface JobProgress {
  epoch?: number | null
  step?: number | null
  total?: number | null
  loss?: number | null
  f1?: number | null
  accuracy?: number | null
}

export interface Job {
  id: string
  kind: 'finetune' | 'benchmark'
  model: string | null
  epochs: number | null
  name: string | null
  state: JobState
  submitted_at: string
  started_at: string | null
  finished_at: string | null
  queue_position: number | null
  progress: JobProgress | null
  result: { name?: string; val_macro_f1?: number; [k: string]: unknown } | null
  error: string | null
  last_event_id: number
  source: 'api' | 'celery'
}

export interface ModelOption {
  key: string
  base_model: string
  max_tokens: number
  description?: string
  gradient_checkpointing?: boolean
  default: boolean
}

export interface TrainedModel {
  name: string
  base_model: string
  val_macro_f1: number | null
  timestamp: string | null
  sample_count: number | null
}

export interface BenchmarkResult {
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

export interface BenchmarkRun {
  id: string
  timestamp: string
  data_file: string
  rows: number
  split_seed: number
  results: BenchmarkResult[]
}

export interface BenchmarkResults {
  latest: BenchmarkRun | null
  history: BenchmarkRun[]
}

/** `workers`: names of the live workers (older APIs sent a count). Redis down: HTTP 503 with this body. */
export interface Health {
  status?: 'ok' | 'degraded' | 'down'
  redis: boolean
  workers: string[] | number
  queue_length: number | null
  running?: number | null
}

/** A line of a streamed log: job events have all fields, benchmark stream lines only type and message. */
export interface LogLine {
  id?: number
  ts?: string
  type: string
  message: string
  data?: Record<string, any>
}
