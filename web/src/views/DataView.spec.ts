import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import DataView from './DataView.vue'
import { makeDataset } from '@/testing/fixtures'
import { fakeApi, json, mountAt } from '@/testing/fakeApi'
import type { Dataset } from '@/types'

vi.mock('vue-chartjs', async () => {
  const { FakeChart } = await import('@/testing/fakeApi')
  return { Line: FakeChart, Bar: FakeChart }
})

const UPLOADED = 'ds-00000000000000aa'
const detail = (d: Dataset) => ({
  ...d, label_set: ['a', 'b'], dropped: [{ label: 'c', rows: 1, why: 'not in the label set' }],
  text_stats: { subject_chars: { min: 3, median: 20, max: 40 }, body_chars: { min: 10, median: 120, max: 400 } },
  preview: [{ line: 1, subject: 'Hello', body: 'Body', label: 'a' }],
})

afterEach(() => vi.unstubAllGlobals())

describe('DataView', () => {
  it('shows a refused upload\'s bad lines, then stores a good file and shows what is in it', async () => {
    const list = [makeDataset({ id: 'score-file', source: 'score_file', labels: { a: 5, b: 4, c: 1 } })]
    fakeApi({
      'GET /api/datasets': () => list,
      'GET /api/datasets/score-file': () => detail(list.at(-1)!),
      [`GET /api/datasets/${UPLOADED}`]: () => detail(list[0]!),
      'POST /api/datasets': (init) => {
        const file = (init.body as FormData).get('file') as File
        if (file.name === 'bad.jsonl') {
          return json({ detail: { message: '1 bad lines, first at line 3: no label', errors: [{ line: 3, problem: 'no label' }] } }, 422)
        }
        list.unshift(makeDataset({ id: UPLOADED, name: file.name }))
        return json(list[0], 201)
      },
    })
    const { wrapper, router } = await mountAt('/data', DataView)
    await flushPromises()
    expect(router.currentRoute.value.query.id).toBe('score-file')
    expect(wrapper.find('[data-testid="dropped"]').text()).toBe('c: 1 row, not in the label set')
    expect(wrapper.findAll('[data-testid="preview"] tbody tr')).toHaveLength(1)

    const input = wrapper.find('[data-testid="file-input"]')
    Object.defineProperty(input.element, 'files', { value: [new File(['x'], 'bad.jsonl')], configurable: true })
    await input.trigger('change')
    await flushPromises()
    expect(wrapper.find('[data-testid="upload-error"]').text()).toBe('Line 3 no label')

    Object.defineProperty(input.element, 'files', { value: [new File(['{}'], 'good.jsonl')], configurable: true })
    await input.trigger('change')
    await flushPromises()
    expect(wrapper.find('[data-testid="upload-errors"]').exists()).toBe(false)
    expect(router.currentRoute.value.query.id).toBe(UPLOADED)
    expect(wrapper.find('[data-testid="dataset-detail"]').attributes('data-id')).toBe(UPLOADED)
    expect(wrapper.findAll('[data-testid="dataset-item"]').map((b) => b.attributes('aria-pressed'))).toEqual(['true', 'false'])
  })
})
