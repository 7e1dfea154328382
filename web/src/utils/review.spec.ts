import { describe, expect, it } from 'vitest'
import { auditSummary, countProblem, datasetText, issueCounts, percent, resultFiles, reviewTitle, rowsWithLabel } from './review'
import { jobTitle } from './jobs'
import { makeDataset } from '@/testing/fixtures'
import { makeJob } from '@/testing/jobs'
import { auditDone, issue, makeLoopJob, scoreDone } from '@/testing/review'

describe('review helpers', () => {
  const issues = [issue(1, 'a', 'b'), issue(2, 'b', 'a'), issue(3, 'a', 'c')]

  it('reads the result files and the summary of a finished audit, nothing of a fine-tune', () => {
    const job = auditDone('j1', issues)
    expect(resultFiles(job)).toEqual([{ name: 'issues', rows: 3 }])
    expect(auditSummary(job)?.issues_by_label).toEqual({ a: 2, b: 1, c: 0 })
    expect(resultFiles(makeJob({ id: 'f', result: { results: 'nope' } }))).toEqual([])
    expect(auditSummary(makeJob({ id: 'f', result: auditDone('x', []).result }))).toBeNull()
  })

  it('counts issues per given label, most first, from the summary or else from the rows', () => {
    expect(issueCounts(auditSummary(auditDone('j', issues)), [])).toEqual([['a', 2], ['b', 1], ['c', 0]])
    expect(issueCounts(null, issues)).toEqual([['a', 2], ['b', 1]])
    expect(rowsWithLabel(issues, 'a').map((r) => r.rank)).toEqual([1, 3])
    expect(rowsWithLabel(issues, null)).toHaveLength(3)
  })

  it('titles the loop\'s jobs by what ran on what, also in the shared jobs list', () => {
    expect(reviewTitle(auditDone('j', issues))).toBe('Audit (quick) · ds-0123456789abcdef')
    expect(reviewTitle(makeLoopJob('audit', { id: 'q' }))).toBe('Audit · ds-0123456789abcdef')
    expect(jobTitle(scoreDone('s', [], []))).toBe('Score mail v3 · ds-0123456789abcdef')
  })

  it('formats probabilities, labelled counts and whole-number bounds', () => {
    expect([percent(0.912), percent(0.001), percent(0), percent(NaN)]).toEqual(['91 %', '<1 %', '0 %', '—'])
    expect(datasetText(makeDataset({ id: 'd', rows: 50, labelled_rows: 20 }))).toBe('20 of 50 rows labelled')
    expect(countProblem('5', 2, 10, 'Folds')).toBeNull()
    for (const bad of ['', '1', '11', '2.5', 'x']) expect(countProblem(bad, 2, 10, 'Folds')).toBe('Folds must be a whole number from 2 to 10.')
  })
})
