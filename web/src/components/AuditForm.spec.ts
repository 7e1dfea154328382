import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import AuditForm from './AuditForm.vue'
import ScoreForm from './ScoreForm.vue'
import { fakeApi, json } from '@/testing/fakeApi'
import { makeDataset } from '@/testing/fixtures'
import type { PublishedModel } from '@/types'

const datasets = [{ ...makeDataset({ id: 'ds-a', rows: 60 }), labelled_rows: 40 }, { ...makeDataset({ id: 'ds-inbox' }), labelled_rows: 0 }]
const models: PublishedModel[] = [{ name: 'mail', current_version: 3, versions: 3 }, { name: 'other', current_version: 1, versions: 1 }]

describe('AuditForm', () => {
  it('sends the dataset, the method and the folds', async () => {
    const w = mount(AuditForm, { props: { datasets, busy: false, error: null } })
    expect(w.find('#audit-dataset-help').text()).toBe('40 of 60 rows labelled')
    await w.find('[data-testid="audit-method"]').setValue('thorough')
    await w.find('[data-testid="audit-folds"]').setValue('3')
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([['ds-a', { method: 'thorough', folds: 3 }]])
  })

  it('refuses folds out of the API\'s range and a dataset without labelled rows, saying why in place', async () => {
    const w = mount(AuditForm, { props: { datasets, busy: false, error: null } })
    const run = w.find('[data-testid="run-audit"]')
    await w.find('[data-testid="audit-folds"]').setValue('11')
    expect(w.find('[data-testid="audit-folds-problem"]').text()).toBe('Folds must be a whole number from 2 to 10.')
    expect(run.attributes('disabled')).toBeDefined()
    await w.find('[data-testid="audit-folds"]').setValue('5')
    await w.find('[data-testid="audit-dataset"]').setValue('ds-inbox')
    expect(w.find('#audit-dataset-help').text()).toContain('no labelled rows')
    expect(run.attributes('disabled')).toBeDefined()
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toBeUndefined()
  })

  it('says where to get a dataset, and shows the API\'s refusal', () => {
    const w = mount(AuditForm, { props: { datasets: [], busy: false, error: 'data: no such dataset' } })
    expect(w.find('[data-testid="audit-dataset"]').text()).toContain('upload one on the Data page')
    expect(w.find('[data-testid="run-audit"]').attributes('disabled')).toBeDefined()
    expect(w.find('[data-testid="audit-error"]').text()).toBe('data: no such dataset')
  })
})

const version = (n: number, current = false) => ({ version: n, current, val_macro_f1: 0.5 + n / 10 })
const modelRoutes = {
  'GET /api/models/mail': () => ({ name: 'mail', current_version: 3, versions: 3, card: '', training_info: {},
    version_list: [version(1), version(3, true), version(2)] }),
  'GET /api/models/other': () => json({ detail: "no model 'other'" }, 404),
}

describe('ScoreForm', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('sends the model (its current version), the dataset, top-k and the label-next length', async () => {
    fakeApi(modelRoutes)
    const w = mount(ScoreForm, { props: { models, datasets, busy: false, error: null } })
    expect(w.find('#score-model-help').text()).toBe('current version v3')
    await w.find('[data-testid="score-dataset"]').setValue('ds-inbox')
    await w.find('[data-testid="score-top-k"]').setValue('2')
    await w.find('[data-testid="score-label-next"]').setValue('50')
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([['mail', { data: 'ds-inbox', top_k: 2, label_next: 50 }]])
  })

  it('lists the model\'s versions newest first and sends the one picked; a new model goes back to current', async () => {
    const api = fakeApi(modelRoutes)
    const w = mount(ScoreForm, { props: { models, datasets, busy: false, error: null } })
    await flushPromises()
    expect(api.calls).toContain('GET /api/models/mail')
    const options = w.findAll('[data-testid="score-version"] option').map((o) => o.text())
    expect(options).toEqual(['Current (v3)', 'v3 (current) · macro-F1 0.800', 'v2 · macro-F1 0.700', 'v1 · macro-F1 0.600'])
    await w.find('[data-testid="score-version"]').setValue('2')
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([['mail', { data: 'ds-a', version: 2, top_k: 3, label_next: 200 }]])

    await w.find('[data-testid="score-model"]').setValue('other')
    await flushPromises()
    expect(w.find('[data-testid="score-version-problem"]').text()).toContain("Could not load the versions of other: no model 'other'")
    expect(w.findAll('[data-testid="score-version"] option').map((o) => o.text())).toEqual(['Current (v1)'])
    await w.find('form').trigger('submit')
    expect(w.emitted('start')![1]).toEqual(['other', { data: 'ds-a', top_k: 3, label_next: 200 }])
  })

  it('keeps Score disabled with no published model or a bound broken', async () => {
    fakeApi(modelRoutes)
    const none = mount(ScoreForm, { props: { models: [], datasets, busy: false, error: null } })
    expect(none.find('[data-testid="score-model"]').text()).toContain('fine-tune one first')
    expect(none.find('[data-testid="run-score"]').attributes('disabled')).toBeDefined()
    const w = mount(ScoreForm, { props: { models, datasets, busy: false, error: null } })
    await w.find('[data-testid="score-top-k"]').setValue('0')
    expect(w.find('[data-testid="score-top-k-problem"]').text()).toBe('Top labels must be a whole number from 1 to 10.')
    expect(w.find('[data-testid="run-score"]').attributes('disabled')).toBeDefined()
  })
})
