/**
 * The labelling loop's shapes: the bodies of POST /api/datasets/{id}/audit and POST /api/models/{name}/score (from
 * the generated schema), the job record's `result` of both kinds, and the JSONL rows of their result files. The
 * result files are streamed as JSONL, so no OpenAPI schema describes their rows: they are written here from README
 * "The labelling loop" (the labelling contract), and `src/utils/jsonl.ts` checks each row before a table shows it.
 */
import { LOOP_RULES } from '@/generated/rules'
import type { components } from '@/generated/schema'
import type { Dataset, Job } from '@/types'

type Schemas = components['schemas']

export type ReviewKind = Extract<Job['kind'], 'audit' | 'score'>

/** The body of POST /api/datasets/{id}/audit (AuditOptions; the path names the dataset): every field has a default. */
export type AuditBody = Partial<Schemas['AuditOptions']>

/** The body of POST /api/models/{name}/score (ScoreOptions; the path names the model); `version` absent: the current. */
export type ScoreBody = Pick<Schemas['ScoreOptions'], 'data'> & Partial<Schemas['ScoreOptions']>
export type AuditMethod = NonNullable<AuditBody['method']>

/** The forms' bounds and defaults: the API's own (AuditOptions, ScoreOptions), generated into rules.ts. */
export const REVIEW_RULES = LOOP_RULES

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
  label_next?: number // rows in the label-next file
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

/** A dataset: `rows` in all, `labelled_rows` of them with a label. */
export type ReviewDataset = Dataset

/** The job's kind when it is one of the loop's. */
export function reviewKind(job: Pick<Job, 'kind'> | null | undefined): ReviewKind | null {
  const kind = job?.kind
  return kind === 'audit' || kind === 'score' ? kind : null
}
