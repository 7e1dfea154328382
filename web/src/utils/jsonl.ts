/**
 * Reading a job's result file (JSONL: one JSON object per line) into typed rows. A line that is not JSON, or not the
 * row the contract describes, is counted and skipped rather than shown half-filled, so one bad row never blanks a
 * table and a server that changed the format is noticed (the table says how many rows it could not read).
 */
import type { IssueRow, LabelNextRow, PredictionRow } from '@/review/types'

export type RowGuard<T> = (value: unknown) => value is T
export interface ParsedRows<T> { rows: T[]; skipped: number }

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isStr = (v: unknown): v is string => typeof v === 'string'
const strOrNull = (v: unknown) => v === null || isStr(v)
const has = (o: Obj, keys: string[], test: (v: unknown) => boolean) => keys.every((k) => test(o[k]))

export function parseJsonl<T>(text: string, guard: RowGuard<T>): ParsedRows<T> {
  const rows: T[] = []
  let skipped = 0
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      skipped++
      continue
    }
    if (guard(value)) rows.push(value)
    else skipped++
  }
  return { rows, skipped }
}

/** `id` may be absent (no id field in the file) as well as null. */
const idOk = (o: Obj) => o.id === undefined || strOrNull(o.id)

export function isIssueRow(v: unknown): v is IssueRow {
  return isObj(v) && idOk(v)
    && has(v, ['rank', 'line', 'given_probability', 'suggested_probability', 'score'], isNum)
    && has(v, ['given', 'suggested', 'subject', 'preview'], isStr)
}

const isTop = (v: unknown) => Array.isArray(v) && v.every((t) => isObj(t) && isStr(t.label) && isNum(t.probability))

export function isPredictionRow(v: unknown): v is PredictionRow {
  return isObj(v) && idOk(v) && strOrNull(v.given ?? null) && isTop(v.top)
    && has(v, ['line', 'probability', 'uncertainty'], isNum)
    && has(v, ['label', 'subject', 'preview'], isStr)
}

export function isLabelNextRow(v: unknown): v is LabelNextRow {
  return isPredictionRow(v) && has(v as unknown as Obj, ['rank', 'score'], isNum)
}
