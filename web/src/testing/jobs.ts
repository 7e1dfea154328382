/** Job records for specs: a valid Job with the fields a spec cares about. */
import type { Job } from '@/types'

export function makeJob(fields: Partial<Job> & Pick<Job, 'id'>): Job {
  return {
    kind: 'finetune', model: 'minilm', epochs: 1, name: null, state: 'queued', submitted_at: '2025-01-01T10:00:00Z',
    started_at: null, finished_at: null, queue_position: null, progress: null, result: null, error: null,
    last_event_id: 0, source: 'api', ...fields,
  }
}
