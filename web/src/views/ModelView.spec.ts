import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import ModelView from './ModelView.vue'
import { fakeApi, json, mountAt } from '@/testing/fakeApi'
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

  it('deletes a version only after confirming, shows why the API refused, and lists the versions again', async () => {
    let versions = detail(2)
    let refuse = true
    const api = fakeApi({
      'GET /api/models/m1': () => versions,
      'DELETE /api/models/m1/versions/1': () => {
        if (refuse) return json({ detail: "version 1 of 'm1' is current: roll back first" }, 409)
        versions = { ...versions, versions: 1, version_list: versions.version_list.slice(0, 1) }
        return new Response(null, { status: 204 })
      },
    })
    const { wrapper } = await mountAt('/models/m1', ModelView, { name: 'm1' })
    await flushPromises()
    const remove = wrapper.findAll('[data-testid="delete-version"]')
    expect(remove.map((b) => b.attributes('aria-label'))).toEqual(['Delete version 1']) // never the current one

    await remove[0]!.trigger('click')
    await flushPromises()
    const dialog = () => wrapper.findAll('dialog').find((d) => d.text().includes('Delete version 1?'))!
    await dialog().find('[data-testid="confirm-cancel"]').trigger('click')
    expect(api.calls.filter((c) => c.startsWith('DELETE'))).toEqual([])

    await remove[0]!.trigger('click')
    await dialog().find('[data-testid="confirm-ok"]').trigger('click')
    await flushPromises()
    expect(api.calls.filter((c) => c.startsWith('DELETE'))).toEqual(['DELETE /api/models/m1/versions/1'])
    expect(dialog().find('[data-testid="confirm-error"]').text())
      .toBe("Could not delete version 1: version 1 of 'm1' is current: roll back first")

    refuse = false
    await dialog().find('[data-testid="confirm-ok"]').trigger('click')
    await flushPromises()
    expect(wrapper.findAll('[data-testid="version-row"]').map((r) => r.attributes('data-version'))).toEqual(['2'])
    expect(wrapper.find('[data-testid="delete-version"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="confirm-error"]').exists()).toBe(false)
  })

  it('deletes the whole model after confirming, then goes to the model list; a refusal stays on the page', async () => {
    let gone = false
    const api = fakeApi({
      'GET /api/models/m1': () => detail(2),
      'DELETE /api/models/m1': () => (gone ? json({ detail: "no published model 'm1'" }, 404) : new Response(null, { status: 204 })),
    })
    const { wrapper, router } = await mountAt('/models/m1', ModelView, { name: 'm1' })
    await flushPromises()
    const button = wrapper.find('[data-testid="delete-model"]')
    expect(button.attributes('aria-label')).toBe('Delete model avocet-m1')
    const dialog = () => wrapper.findAll('dialog').find((d) => d.text().includes('Delete avocet-m1?'))!

    gone = true // another tab deleted it first: the 404's detail is shown
    await button.trigger('click')
    await dialog().find('[data-testid="confirm-ok"]').trigger('click')
    await flushPromises()
    expect(dialog().find('[data-testid="confirm-error"]').text()).toBe("Could not delete avocet-m1: no published model 'm1'")
    expect(router.currentRoute.value.path).toBe('/models/m1')

    gone = false
    await dialog().find('[data-testid="confirm-ok"]').trigger('click')
    await flushPromises()
    expect(api.calls.filter((c) => c.startsWith('DELETE'))).toEqual(['DELETE /api/models/m1', 'DELETE /api/models/m1'])
    expect(router.currentRoute.value.path).toBe('/models')
  })
})
