import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import UploadErrors from './UploadErrors.vue'
import { ApiError } from '@/api'
import { describeUploadFailure } from '@/utils/uploads'

const refusal = new ApiError('2 bad lines, first at line 2: not JSON', 422, {
  message: '2 bad lines, first at line 2: not JSON',
  errors: [{ line: 2, problem: 'not JSON: Expecting value' }, { line: 5, problem: 'no "label"' }, { bogus: true }],
})

describe('UploadErrors', () => {
  it('lists the refused upload\'s bad lines by line number, as an alert', () => {
    const w = mount(UploadErrors, { props: { failure: describeUploadFailure(refusal, 'emails.jsonl') } })
    expect(w.attributes('role')).toBe('alert')
    expect(w.text()).toContain('emails.jsonl was not stored. 2 bad lines, first at line 2: not JSON')
    expect(w.findAll('[data-testid="upload-error"]').map((li) => li.text()))
      .toEqual(['Line 2 not JSON: Expecting value', 'Line 5 no "label"'])
  })

  it('explains a refusal without lines (too large, not reachable) in one sentence', () => {
    const tooBig = describeUploadFailure(new ApiError('the file is larger than 1024 bytes', 413, 'the file is larger than 1024 bytes'), 'big.jsonl')
    const w = mount(UploadErrors, { props: { failure: tooBig } })
    expect(w.text()).toContain('big.jsonl is too large: the file is larger than 1024 bytes')
    expect(w.find('ul').exists()).toBe(false)
    expect(describeUploadFailure(new Error('Cannot reach the API'), 'x.jsonl')).toEqual({ file: 'x.jsonl', message: 'Cannot reach the API', errors: [] })
  })
})
