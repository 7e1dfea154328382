import { describe, expect, it } from 'vitest'
import { isIssueRow, isLabelNextRow, isPredictionRow, parseJsonl } from './jsonl'
import { issue, nextRow, prediction } from '@/testing/review'

const lines = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n')

describe('parseJsonl', () => {
  it('reads the contract\'s issue rows in file order, skipping blank lines', () => {
    const text = `${lines(issue(1, 'a', 'b'), issue(2, 'b', 'a', { id: null }))}\n\n`
    const { rows, skipped } = parseJsonl(text, isIssueRow)
    expect(rows.map((r) => [r.rank, r.given, r.suggested, r.id])).toEqual([[1, 'a', 'b', 'row-1'], [2, 'b', 'a', null]])
    expect(skipped).toBe(0)
  })

  it('counts and skips lines that are not JSON or not the row the contract describes', () => {
    const { given: _gone, ...noGiven } = issue(3, 'a', 'b')
    const text = lines(issue(1, 'a', 'b'), '{"rank": 2, "line"', noGiven, { ...issue(4, 'a', 'b'), score: 'low' }, '[1, 2]')
    const { rows, skipped } = parseJsonl(text, isIssueRow)
    expect(rows.map((r) => r.rank)).toEqual([1])
    expect(skipped).toBe(4)
  })

  it('takes a row without an id field (the file had none) but not an id of another type', () => {
    const { id: _none, ...noId } = issue(1, 'a', 'b')
    expect(isIssueRow(noId)).toBe(true)
    expect(isIssueRow({ ...noId, id: 7 })).toBe(false)
  })

  it('checks prediction rows: top-k pairs, a null or string given label', () => {
    expect(isPredictionRow(prediction(3, 'a', null))).toBe(true)
    expect(isPredictionRow(prediction(3, 'a', 'b'))).toBe(true)
    expect(isPredictionRow({ ...prediction(3, 'a', null), top: [['a', 0.6]] })).toBe(false)
    expect(isPredictionRow({ ...prediction(3, 'a', null), uncertainty: null })).toBe(false)
  })

  it('wants rank and score on a label-next row', () => {
    expect(isLabelNextRow(nextRow(1, 9, 'a'))).toBe(true)
    expect(isLabelNextRow(prediction(9, 'a', null))).toBe(false)
    const { rows } = parseJsonl(lines(nextRow(1, 9, 'a'), nextRow(2, 4, 'b')), isLabelNextRow)
    expect(rows.map((r) => [r.rank, r.line, r.top[0]!.label])).toEqual([[1, 9, 'a'], [2, 4, 'b']])
  })
})
