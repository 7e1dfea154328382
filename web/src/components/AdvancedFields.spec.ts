import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import AdvancedFields from './AdvancedFields.vue'
import { HYPERPARAMETER_RULES } from '@/generated/rules'
import { BASE_MODELS } from '@/testing/fixtures'

const mountFields = (raw: Record<string, string> = {}, base = BASE_MODELS[0]!) =>
  mount(AdvancedFields, { props: { modelValue: raw, base, valid: true } })
const hint = (w: ReturnType<typeof mountFields>, key: string) => w.find(`#hp-${key}-help`).text()

describe('AdvancedFields', () => {
  it('shows one labelled field per generated hyperparameter with its default and range', () => {
    const w = mountFields()
    expect(w.findAll('input, select')).toHaveLength(Object.keys(HYPERPARAMETER_RULES).length)
    expect(w.find('label[for="hp-batch_size"]').text()).toBe('Batch Size')
    expect(hint(w, 'batch_size')).toBe('Default 16 · 1 to 256')
    expect(hint(w, 'learning_rate')).toBe('Default 0.00005 · above 0, at most 0.01') // the base model's registry default
    expect(w.find('#hp-seed').attributes('placeholder')).toBe('42')
  })

  it.each([
    ['batch_size', '2.5', 'Batch Size must be a whole number, 1 to 256.'],
    ['learning_rate', '0', 'Learning Rate must be above 0, at most 0.01; 0 is out of range.'],
    ['warmup_ratio', '0.9', 'Warmup Ratio must be 0 to 0.5; 0.9 is out of range.'],
    ['seed', 'abc', 'Seed: "abc" is not a number; enter 0 to 2147483647.'],
  ])('explains %s = %j in place with the server\'s rule and reports the form invalid', async (key, value, message) => {
    const w = mountFields()
    await w.find(`#hp-${key}`).setValue(value)
    await w.setProps({ modelValue: w.emitted<[Record<string, string>]>('update:modelValue')!.at(-1)![0] })
    expect(w.find(`[data-testid="hp-${key}-problem"]`).text()).toBe(message)
    expect(w.find(`#hp-${key}`).attributes('aria-invalid')).toBe('true')
    expect(w.emitted('update:valid')?.at(-1)).toEqual([false])
  })

  it('offers yes/no and one-of hyperparameters as selects whose empty choice is the default', async () => {
    const w = mountFields()
    const select = w.find('select#hp-promote')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['default (if_not_worse)', 'if_not_worse', 'always'])
    expect(hint(w, 'ensemble')).toBe('Default true · one of: true, false')
    await w.find('select#hp-ensemble').setValue('false')
    expect(w.emitted<[Record<string, string>]>('update:modelValue')!.at(-1)![0]).toEqual({ ensemble: 'false' })
  })

  it('notes that max tokens above the base model\'s limit are cut to it', () => {
    const w = mountFields({ max_tokens: '400' })
    expect(hint(w, 'max_tokens')).toContain('minilm reads at most 256 tokens: the run uses 256.')
  })
})

describe('hyperBody', () => {
  it('sends numbers as numbers, yes/no as booleans and choices as their word, and leaves empty fields out', async () => {
    const { hyperBody } = await import('@/utils/hyperparameters')
    expect(hyperBody({ batch_size: '8', ensemble: 'false', promote: 'always', seed: '' })).toEqual({
      batch_size: 8, ensemble: false, promote: 'always' })
  })
})
