/** What to show for a refused upload: the API's sentence and its line-numbered problems (422 detail.errors). */
import { ApiError } from '@/api'
import type { UploadProblem } from '@/types'

export interface UploadFailure { file: string; message: string; errors: UploadProblem[] }

const isProblem = (p: any): p is UploadProblem => typeof p?.line === 'number' && typeof p?.problem === 'string'

export function describeUploadFailure(e: unknown, file: string): UploadFailure {
  const detail = e instanceof ApiError ? (e.detail as any) : null
  const errors = Array.isArray(detail?.errors) ? detail.errors.filter(isProblem) : []
  let message = e instanceof Error ? e.message : String(e)
  if (e instanceof ApiError && e.status === 413) message = `${file} is too large: ${message}`
  if (e instanceof ApiError && e.status === 415) message = `${file} was not sent as a JSONL file: ${message}`
  return { file, message, errors }
}
