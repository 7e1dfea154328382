import { describe, expect, it } from 'vitest'
import { parseEmails } from './emails'

describe('parseEmails', () => {
  it('reads JSON lines, as in a dataset file', () => {
    expect(parseEmails('{"subject": "Offer", "body": "We are happy", "label": "x"}\n\n{"subject": "Hi"}'))
      .toEqual([{ subject: 'Offer', body: 'We are happy' }, { subject: 'Hi', body: '' }])
  })

  it('reads plain emails separated by --- lines: the first line is the subject', () => {
    expect(parseEmails('Interview Tuesday\nCan you join at 10?\nThanks\n---\nNewsletter\n\n---\n'))
      .toEqual([{ subject: 'Interview Tuesday', body: 'Can you join at 10?\nThanks' }, { subject: 'Newsletter', body: '' }])
    expect(parseEmails('   ')).toEqual([])
  })
})
