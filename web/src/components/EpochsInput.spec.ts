import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import EpochsInput from './EpochsInput.vue'

function mountInput() {
  return mount(EpochsInput, { props: { modelValue: 5, valid: true } })
}

describe('EpochsInput', () => {
  it('starts at 5 epochs, valid, with a hint', () => {
    const w = mountInput()
    expect((w.find('input').element as HTMLInputElement).value).toBe('5')
    expect(w.find('[data-testid="epochs-problem"]').exists()).toBe(false)
    expect(w.find('input').attributes('aria-invalid')).toBe('false')
  })

  it.each([
    ['0', 'Epochs must be from 1 to 20; 0 is out of range.'],
    ['21', 'Epochs must be from 1 to 20; 21 is out of range.'],
    ['2.5', 'Epochs must be a whole number from 1 to 20.'],
    ['', 'Enter the number of epochs, from 1 to 20.'],
  ])('explains %j in place and reports it invalid', async (value, message) => {
    const w = mountInput()
    await w.find('input').setValue(value)
    expect(w.find('[data-testid="epochs-problem"]').text()).toBe(message)
    expect(w.find('input').attributes('aria-invalid')).toBe('true')
    expect(w.emitted('update:valid')?.at(-1)).toEqual([false])
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([null])
  })

  it('accepts the bounds and clears the message again', async () => {
    const w = mountInput()
    await w.find('input').setValue('25')
    await w.find('input').setValue('20')
    expect(w.find('[data-testid="epochs-problem"]').exists()).toBe(false)
    expect(w.emitted('update:valid')?.at(-1)).toEqual([true])
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([20])
    await w.find('input').setValue('1')
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([1])
  })
})
