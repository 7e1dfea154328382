/**
 * The labelling loop's shapes (docs: the labelling contract, section 2): the bodies of POST /api/datasets/{id}/audit
 * and POST /api/models/{name}/score, the job record's `result` of both kinds, and the JSONL rows of their result
 * files. The rows are streamed as JSONL, so no OpenAPI schema describes them: they are written here from the contract,
 * and `src/utils/jsonl.ts` checks each row against them before a table shows it.
 */
import type { Dataset, Job } from '@/types'

export type ReviewKind = 'audit' | 'score'
export type AuditMethod = 'quick' | 'thorough'

/** AuditParams minus `data` (the dataset is in the path). Bounds: the contract's (folds 2..10, limit <= 100000). */
export interface AuditBody {
  method?: AuditMethod
  folds?: number
  model?: string
  limit?: number
}

/** ScoreParams minus `name` (the model is in the path); `version` null or absent: the current one. */
export interface ScoreBody {
  data: string
  version?: number | null
  top_k?: number
  label_next?: number
}

/** The form's bounds and defaults, as the contract declares them for AuditParams and ScoreParams. */
export const REVIEW_RULES = {
  folds: { minimum: 2, maximum: 10, default: 5 },
  top_k: { minimum: 1, maximum: 10, default: 3 },
  label_next: { minimum: 0, maximum: 10000, default: 200 },
} as const

/** Which result files a job kind writes, in the order the page shows them. */
export const RESULT_NAMES = { audit: ['issues'], score: ['label_next', 'disagreements', 'predictions'] } as const
export type ResultName = (typeof RESULT_NAMES)[ReviewKind][number]

/** One entry of `job.result.results`. */
export interface ResultFile { name: string; rows: number }

export interface AuditSummary {
  method: AuditMethod
  folds: number
  labelled_rows: number
  issues: number
  issues_by_label: Record<string, number>
}

export interface ScoreSummary {
  model: string
  version: number
  rows: number
  labelled_rows: number
  disagreements: number
  predicted_by_label: Record<string, number>
  emails_per_s: number
}

/** A row of `issues`: a labelled row whose given label is probably wrong, ranked most likely wrong first. */
export interface IssueRow {
  rank: number
  line: number // 1-based line of the dataset file
  id: string | null
  given: string
  suggested: string
  given_probability: number
  suggested_probability: number
  score: number // label quality in [0, 1]: lower is more likely wrong
  subject: string
  preview: string
}

export interface LabelProbability { label: string; probability: number }

/** A row of `predictions` and of `disagreements`. */
export interface PredictionRow {
  line: number
  id: string | null
  label: string
  probability: number
  top: LabelProbability[]
  uncertainty: number // 0 sure .. 1 torn
  given: string | null // the row's own label, null when unlabelled
  subject: string
  preview: string
}

/** A row of `label_next`: an unlabelled row, ranked by how much its label would teach the model. */
export interface LabelNextRow extends PredictionRow { rank: number; score: number }

/** A dataset as the API describes it once unlabelled rows are allowed (`labelled_rows` may be absent before). */
export type ReviewDataset = Dataset & { labelled_rows?: number }

/** The job's kind when it is one of the loop's (the generated Job type lists the kinds the schema knew). */
export function reviewKind(job: Pick<Job, 'kind'> | null | undefined): ReviewKind | null {
  const kind: string | undefined = job?.kind
  return kind === 'audit' || kind === 'score' ? kind : null
}
