import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import ModelView from './ModelView.vue'
import { fakeApi, mountAt } from '@/testing/fakeApi'
import type { ModelDetail } from '@/types'

vi.mock('vue-chartjs', async () => {
  const { FakeChart } = await import('@/testing/fakeApi')
  return { Line: FakeChart, Bar: FakeChart }
})

const version = (v: number, current: boolean, f1: number) =>
  ({ version: v, current, timestamp: '2025-01-01T10:00:00Z', base_model: 'minilm', val_macro_f1: f1, val_accuracy: f1, dataset_id: 'ds-1', epochs_run: 1 })
const detail = (current: number): ModelDetail => ({
  name: 'm1', current_version: current, versions: 2, base_model: 'minilm', val_macro_f1: 0.5, val_accuracy: 0.6, timestamp: null,
  version_list: [version(2, current === 2, 0.5), version(1, current === 1, 0.7)],
  training_info: { labels: ['offer', 'rejected'], per_class_f1: { offer: 0.4, rejected: 0.6 }, confusion_matrix: [[2, 1], [0, 3]] },
  card: '# avocet-m1\n\nA card.',
})

afterEach(() => vi.unstubAllGlobals())

describe('ModelView', () => {
  it('shows versions, per-class F1, the confusion matrix and the card, and rolls back only after confirming', async () => {
    let current = 2
    const api = fakeApi({
      'GET /api/models/m1': () => detail(current),
      'POST /api/models/m1/rollback': (init) => { current = JSON.parse(String(init.body)).version; return detail(current) },
    })
    const { wrapper } = await mountAt('/models/m1', ModelView, { name: 'm1' })
    await flushPromises()
    expect(wrapper.findAll('[data-testid="version-row"]').map((r) => r.attributes('data-current'))).toEqual(['true', 'false'])
    expect(JSON.parse(wrapper.find('[data-testid="chart-model-per-class"] canvas').attributes('data-chart')!).labels).toEqual(['offer', 'rejected'])
    expect(wrapper.findAll('[data-testid="confusion-cell"]').map((c) => c.text())).toEqual(['2', '1', '0', '3'])
    expect(wrapper.find('[data-testid="model-card"] h3').text()).toBe('avocet-m1')

    await wrapper.find('[data-testid="rollback"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('dialog').text()).toContain('Roll back to version 1?')
    await wrapper.find('[data-testid="confirm-cancel"]').trigger('click') // changed their mind: nothing sent
    expect(api.calls.filter((c) => c.startsWith('POST'))).toEqual([])

    await wrapper.find('[data-testid="rollback"]').trigger('click')
    await wrapper.find('[data-testid="confirm-ok"]').trigger('click')
    await flushPromises()
    expect(api.bodies['POST /api/models/m1/rollback']).toEqual([{ version: 1 }])
    expect(wrapper.find('[data-current="true"]').attributes('data-version')).toBe('1')
  })
})
