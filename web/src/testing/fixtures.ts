/** Records for specs: base models, datasets, a model detail and events, valid against the generated types. */
import type { BaseModelInfo, Dataset, JobEvent } from '@/types'

export const BASE_MODELS: BaseModelInfo[] = [
  { key: 'minilm', description: 'MiniLM', base_model: 'sentence-transformers/all-MiniLM-L6-v2', max_tokens: 256,
    learning_rate: 5e-5, gradient_checkpointing: false, default: true },
  { key: 'bge-m3', description: 'BGE-M3', base_model: 'BAAI/bge-m3', max_tokens: 512, learning_rate: 2e-5,
    gradient_checkpointing: true, default: false },
]

export function makeDataset(fields: Partial<Dataset> & Pick<Dataset, 'id'>): Dataset {
  return {
    name: `${fields.id}.jsonl`, sha256: 'ab'.repeat(32), size_bytes: 2048, rows: 20, labelled_rows: 20, labels: { a: 10, b: 10 },
    created_at: '2025-01-01T10:00:00Z', source: 'upload', ...fields,
  }
}

/** An event as the stream and the log carry it. */
export const ev = (id: number, type: string, data: Record<string, unknown> = {}): JobEvent =>
  ({ id, ts: `2025-01-01T10:00:${String(id).padStart(2, '0')}Z`, type, message: '', data })
