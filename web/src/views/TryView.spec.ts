import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import TryView from './TryView.vue'
import { fakeApi, json, mountAt } from '@/testing/fakeApi'

const models = [{ name: 'm1', current_version: 2, versions: 2 }, { name: 'm2', current_version: 1, versions: 1 }]
const predictions = (n: number) => Array.from({ length: n }, () => ({
  label: 'offer', score: 0.8, top: [{ label: 'offer', score: 0.8 }, { label: 'rejected', score: 0.15 }],
}))

afterEach(() => vi.unstubAllGlobals())

describe('TryView', () => {
  it('classifies one email, then several pasted at once, with the model in the link', async () => {
    let busy = false
    const api = fakeApi({
      'GET /api/models': () => models,
      'POST /api/models/m2/predict': (init) => (busy
        ? json({ detail: 'busy' }, 503, { 'retry-after': '3' })
        : { model: 'm2', version: 1, labels: ['offer', 'rejected'], predictions: predictions(JSON.parse(String(init.body)).emails.length) }),
    })
    const { wrapper } = await mountAt('/try?model=m2', TryView)
    await flushPromises()
    expect((wrapper.find('#try-model').element as HTMLSelectElement).value).toBe('m2')
    await wrapper.find('#p-subject').setValue('Your offer')
    await wrapper.find('#p-body').setValue('We are glad to offer you the role.')
    await wrapper.find('[data-testid="predict-form"]').trigger('submit')
    await flushPromises()
    expect(api.bodies['POST /api/models/m2/predict']).toEqual([{ emails: [{ subject: 'Your offer', body: 'We are glad to offer you the role.' }], top_k: 3 }])
    expect(wrapper.find('[data-testid="predicted-label"]').text()).toBe('offer')
    expect(wrapper.findAll('[data-testid="top-label"]').map((t) => [t.find('.bar-label').text(), t.find('.bar-value').text()]))
      .toEqual([['offer', '80.0%'], ['rejected', '15.0%']])

    await wrapper.find('[data-testid="mode-many"]').trigger('click')
    await wrapper.find('#p-many').setValue('First\nbody one\n---\nSecond\nbody two')
    await wrapper.find('[data-testid="predict-form"]').trigger('submit')
    await flushPromises()
    expect(wrapper.findAll('[data-testid="prediction"]')).toHaveLength(2)

    busy = true
    await wrapper.find('[data-testid="predict-form"]').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid="predict-error"]').text()).toBe('The model server is busy: try again in 3 s.')
  })
})
