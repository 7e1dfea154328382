import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import FinetuneForm from './FinetuneForm.vue'
import { BASE_MODELS as models, makeDataset } from '@/testing/fixtures'

const datasets = [makeDataset({ id: 'score-file', source: 'score_file' }), makeDataset({ id: 'ds-0123456789abcdef' })]
const mountForm = (props: Record<string, unknown> = {}) =>
  mount(FinetuneForm, { props: { models, datasets, busy: false, error: null, ...props } })

describe('FinetuneForm', () => {
  it('preselects the default model and the first dataset, and submits model, dataset and epochs', async () => {
    const w = mountForm()
    expect((w.find('#model').element as HTMLSelectElement).value).toBe('minilm')
    expect((w.find('#dataset').element as HTMLSelectElement).value).toBe('score-file')
    await w.find('#dataset').setValue('ds-0123456789abcdef')
    await w.find('[data-testid="epochs"]').setValue('1')
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([[{ model: 'minilm', epochs: 1, data: 'ds-0123456789abcdef' }]])
  })

  it('takes the dataset it is given (the Data page\'s "Fine-tune on it")', () => {
    const w = mountForm({ dataset: 'ds-0123456789abcdef' })
    expect((w.find('#dataset').element as HTMLSelectElement).value).toBe('ds-0123456789abcdef')
  })

  it('disables Run while the epochs are invalid', async () => {
    const w = mountForm()
    const run = w.find('[data-testid="run-finetune"]')
    expect(run.attributes('disabled')).toBeUndefined()
    await w.find('[data-testid="epochs"]').setValue('50')
    expect(run.attributes('disabled')).toBeDefined()
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toBeUndefined()
  })

  it('shows the API error and disables Run without models', () => {
    const w = mountForm({ models: [], error: 'epochs: too big' })
    expect(w.find('[data-testid="start-error"]').text()).toBe('epochs: too big')
    expect(w.find('[data-testid="run-finetune"]').attributes('disabled')).toBeDefined()
  })

  it('refuses a name the server would refuse (upper case, ".") and sends a valid one', async () => {
    const w = mountForm({ datasets: [] })
    const run = w.find('[data-testid="run-finetune"]')
    await w.find('#run-name').setValue('MiniLM.v2')
    expect(w.find('#name-help').text()).toMatch(/^Use lower-case letters, digits, "_" or "-" only/)
    expect(run.attributes('disabled')).toBeDefined()
    await w.find('#run-name').setValue(' minilm_v2 ')
    expect(run.attributes('disabled')).toBeUndefined()
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([[{ model: 'minilm', epochs: 5, name: 'minilm_v2' }]])
  })

  it('sends only the Advanced fields filled in, and blocks Run while one is out of range', async () => {
    const w = mountForm({ datasets: [] })
    const run = w.find('[data-testid="run-finetune"]')
    await w.find('[data-testid="hp-batch_size"]').setValue('0')
    expect(w.find('[data-testid="hp-batch_size-problem"]').text()).toBe('Batch Size must be 1 to 256; 0 is out of range.')
    expect(run.attributes('disabled')).toBeDefined()
    await w.find('[data-testid="hp-batch_size"]').setValue('4')
    await w.find('[data-testid="hp-learning_rate"]').setValue('0.0001')
    expect(run.attributes('disabled')).toBeUndefined()
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([[{ model: 'minilm', epochs: 5, hyperparameters: { learning_rate: 0.0001, batch_size: 4 } }]])
  })
})
