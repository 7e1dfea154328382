/** Pure helpers of the Review page: a loop job's result files and summary, its title, and the issues' label filter. */
import type { Job } from '@/types'
import {
  reviewKind, type AuditSummary, type IssueRow, type ResultFile, type ReviewDataset, type ScoreSummary,
} from '@/review/types'

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `job.result.results`: the files the job kept (name and row count); empty until it has any. */
export function resultFiles(job: Job | null | undefined): ResultFile[] {
  const list = job?.result?.results
  if (!Array.isArray(list)) return []
  return list.filter((f): f is ResultFile => isObj(f) && typeof f.name === 'string' && typeof f.rows === 'number')
}

export function resultRows(job: Job | null | undefined, name: string): number | null {
  return resultFiles(job).find((f) => f.name === name)?.rows ?? null
}

/** `job.result.summary` of an audit, or null (another kind, or not finished). */
export function auditSummary(job: Job | null | undefined): AuditSummary | null {
  const s = job?.result?.summary
  return reviewKind(job) === 'audit' && isObj(s) && isObj(s.issues_by_label) ? (s as unknown as AuditSummary) : null
}

export function scoreSummary(job: Job | null | undefined): ScoreSummary | null {
  const s = job?.result?.summary
  return reviewKind(job) === 'score' && isObj(s) ? (s as unknown as ScoreSummary) : null
}

/** A short title: what ran on what (the dataset id is in the record; the method only once the summary says it). */
export function reviewTitle(job: Job): string {
  const data = job.data ?? 'dataset'
  if (reviewKind(job) === 'audit') {
    const method = auditSummary(job)?.method
    return `Audit${method ? ` (${method})` : ''} · ${data}`
  }
  const version = scoreSummary(job)?.version
  return `Score ${job.name ?? 'model'}${version != null ? ` v${version}` : ''} · ${data}`
}

/** Issues per given label, most first: from the summary (every row) or, lacking one, the rows at hand. */
export function issueCounts(summary: AuditSummary | null, rows: IssueRow[]): [string, number][] {
  const counts: Record<string, number> = summary ? { ...summary.issues_by_label } : {}
  if (!summary) for (const r of rows) counts[r.given] = (counts[r.given] ?? 0) + 1
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

export function rowsWithLabel(rows: IssueRow[], given: string | null): IssueRow[] {
  return given ? rows.filter((r) => r.given === given) : rows
}

/** "120 of 500 rows labelled": how much of a dataset an audit reads (the labelled rows) and a score job ranks. */
export function datasetText(d: ReviewDataset): string {
  return `${d.labelled_rows} of ${d.rows} rows labelled`
}

/** A probability as a whole percentage ("91 %"); "<1 %" rather than a misleading "0 %". */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return '—'
  const v = Math.round(p * 100)
  return v === 0 && p > 0 ? '<1 %' : `${v} %`
}

/** Why a raw input is not a whole number from `min` to `max` (`title` names the field), or null when it is. */
export function countProblem(raw: string, min: number, max: number, title: string): string | null {
  const text = raw.trim()
  const n = Number(text)
  if (!text || !Number.isInteger(n) || n < min || n > max) return `${title} must be a whole number from ${min} to ${max}.`
  return null
}
