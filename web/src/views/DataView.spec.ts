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

  it('deletes an upload only after confirming, shows a refusal (a job uses it), and never offers the score file', async () => {
    const other = 'ds-00000000000000bb'
    let list = [makeDataset({ id: UPLOADED, name: 'mine.jsonl' }), makeDataset({ id: other }),
      makeDataset({ id: 'score-file', source: 'score_file' })]
    let busy = true
    const api = fakeApi({
      'GET /api/datasets': () => list,
      [`GET /api/datasets/${UPLOADED}`]: () => detail(list[0]!),
      [`GET /api/datasets/${other}`]: () => detail(list[1]!),
      [`DELETE /api/datasets/${UPLOADED}`]: () => {
        if (busy) return json({ detail: `dataset ${UPLOADED} is used by job(s) ft-1: cancel them or wait` }, 409)
        list = list.filter((d) => d.id !== UPLOADED)
        return new Response(null, { status: 204 })
      },
    })
    const { wrapper, router } = await mountAt(`/data?id=${UPLOADED}`, DataView)
    await flushPromises()
    const buttons = wrapper.findAll('[data-testid="dataset-delete"]')
    expect(buttons.map((b) => b.attributes('aria-label')))
      .toEqual([`Delete dataset mine.jsonl (${UPLOADED})`, `Delete dataset ${other}.jsonl (${other})`])

    await buttons[0]!.trigger('click')
    await flushPromises()
    expect(wrapper.find('dialog').text()).toContain('Delete mine.jsonl?')
    await wrapper.find('[data-testid="confirm-cancel"]').trigger('click')
    expect(api.calls.filter((c) => c.startsWith('DELETE'))).toEqual([])

    await buttons[0]!.trigger('click')
    await wrapper.find('[data-testid="confirm-ok"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="confirm-error"]').text())
      .toBe(`Could not delete mine.jsonl: dataset ${UPLOADED} is used by job(s) ft-1: cancel them or wait`)

    busy = false
    await wrapper.find('[data-testid="confirm-ok"]').trigger('click')
    await flushPromises()
    expect(api.calls.filter((c) => c.startsWith('DELETE'))).toEqual([`DELETE /api/datasets/${UPLOADED}`, `DELETE /api/datasets/${UPLOADED}`])
    expect(wrapper.findAll('[data-testid="dataset-item"]').map((b) => b.attributes('data-id'))).toEqual([other, 'score-file'])
    expect(router.currentRoute.value.query.id).toBe(other) // the deleted one was shown: the next one is
    expect(wrapper.find('[data-testid="confirm-error"]').exists()).toBe(false)
  })
})
