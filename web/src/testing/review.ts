/** Records for the Review page's specs: audit and score jobs, their result rows and a JSONL response of them. */
import type { IssueRow, LabelNextRow, PredictionRow } from '@/review/types'
import type { Job } from '@/types'
import { makeJob } from './jobs'

/** An audit or score job record. */
export function makeLoopJob(kind: 'audit' | 'score', fields: Partial<Job> & Pick<Job, 'id'>): Job {
  return makeJob({ kind, model: null, epochs: null, data: 'ds-0123456789abcdef', ...fields })
}

export const auditDone = (id: string, issues: IssueRow[]) => makeLoopJob('audit', {
  id, state: 'succeeded', result: {
    results: [{ name: 'issues', rows: issues.length }],
    summary: { method: 'quick', folds: 5, labelled_rows: 40, issues: issues.length, issues_by_label: countBy(issues) },
  },
})

export const scoreDone = (id: string, next: LabelNextRow[], disagreements: PredictionRow[]) => makeLoopJob('score', {
  id, state: 'succeeded', name: 'mail', result: {
    results: [{ name: 'predictions', rows: 60 }, { name: 'label_next', rows: next.length },
      { name: 'disagreements', rows: disagreements.length }],
    summary: { model: 'mail', version: 3, rows: 60, labelled_rows: 40, disagreements: disagreements.length,
      predicted_by_label: { a: 30, b: 30 }, emails_per_s: 41.2 },
  },
})

function countBy(rows: IssueRow[]): Record<string, number> {
  const out: Record<string, number> = { c: 0 } // every label is present, 0 allowed
  for (const r of rows) out[r.given] = (out[r.given] ?? 0) + 1
  return out
}

export const issue = (rank: number, given: string, suggested: string, fields: Partial<IssueRow> = {}): IssueRow => ({
  rank, line: rank * 3, id: `row-${rank}`, given, suggested, given_probability: 0.05, suggested_probability: 0.9,
  score: 0.05, subject: `Subject ${rank}`, preview: `Body of email ${rank}`, ...fields,
})

export const prediction = (line: number, label: string, given: string | null, fields: Partial<PredictionRow> = {}): PredictionRow => ({
  line, id: null, label, probability: 0.6, top: [{ label, probability: 0.6 }, { label: label === 'a' ? 'b' : 'a', probability: 0.3 }],
  uncertainty: 0.7, given, subject: `Email ${line}`, preview: `Preview ${line}`, ...fields,
})

export const nextRow = (rank: number, line: number, label: string): LabelNextRow =>
  ({ ...prediction(line, label, null), rank, score: 1 - rank / 10 })

/** The results endpoint's answer: JSONL, one object per line. */
export const jsonl = (rows: unknown[]) =>
  new Response(rows.map((r) => JSON.stringify(r)).join('\n') + '\n', { headers: { 'content-type': 'application/x-ndjson' } })
