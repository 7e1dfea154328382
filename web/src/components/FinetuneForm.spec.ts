import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import FinetuneForm from './FinetuneForm.vue'
import type { BaseModelInfo } from '@/types'

const models: BaseModelInfo[] = [
  { key: 'minilm', description: 'MiniLM', base_model: 'sentence-transformers/all-MiniLM-L6-v2', max_tokens: 256, default: true },
  { key: 'bge-m3', description: 'BGE-M3', base_model: 'BAAI/bge-m3', max_tokens: 512, default: false },
]

describe('FinetuneForm', () => {
  it('preselects the default model and submits model and epochs', async () => {
    const w = mount(FinetuneForm, { props: { models, busy: false, error: null } })
    expect((w.find('select').element as HTMLSelectElement).value).toBe('minilm')
    await w.find('[data-testid="epochs"]').setValue('1')
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([[{ model: 'minilm', epochs: 1 }]])
  })

  it('disables Run while the epochs are invalid', async () => {
    const w = mount(FinetuneForm, { props: { models, busy: false, error: null } })
    const run = w.find('[data-testid="run-finetune"]')
    expect(run.attributes('disabled')).toBeUndefined()
    await w.find('[data-testid="epochs"]').setValue('50')
    expect(run.attributes('disabled')).toBeDefined()
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toBeUndefined()
  })

  it('shows the API error and disables Run without models', () => {
    const w = mount(FinetuneForm, { props: { models: [], busy: false, error: 'epochs: too big' } })
    expect(w.find('[data-testid="start-error"]').text()).toBe('epochs: too big')
    expect(w.find('[data-testid="run-finetune"]').attributes('disabled')).toBeDefined()
  })

  it('refuses a name the server would refuse (upper case, ".") and sends a valid one', async () => {
    const w = mount(FinetuneForm, { props: { models, busy: false, error: null } })
    const run = w.find('[data-testid="run-finetune"]')
    await w.find('#run-name').setValue('MiniLM.v2')
    expect(w.find('#name-help').text()).toMatch(/^Use lower-case letters, digits, "_" or "-" only/)
    expect(run.attributes('disabled')).toBeDefined()
    await w.find('#run-name').setValue(' minilm_v2 ')
    expect(run.attributes('disabled')).toBeUndefined()
    await w.find('form').trigger('submit')
    expect(w.emitted('start')).toEqual([[{ model: 'minilm', epochs: 5, name: 'minilm_v2' }]])
  })
})
