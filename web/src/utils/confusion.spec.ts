import { describe, expect, it } from 'vitest'
import { heatColor, isConfusion, matrixMax, normalizeRows, readConfusion } from './confusion'

const contrast = (bg: string, fg: string) => {
  const lum = (rgb: number[]) => {
    const c = rgb.map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4 })
    return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!
  }
  const parse = (css: string) => (css.startsWith('#') ? [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16)) : css.match(/\d+/g)!.map(Number))
  const [a, b] = [lum(parse(bg)), lum(parse(fg))].sort((x, y) => y - x)
  return (a! + 0.05) / (b! + 0.05)
}

describe('confusion matrix', () => {
  it('normalises each row to the shares of its true label, leaving an empty row at zero', () => {
    expect(normalizeRows([[3, 1], [0, 0], [1, 4]])).toEqual([[0.75, 0.25], [0, 0], [0.2, 0.8]])
    expect(normalizeRows([[2, 2, 0]]).map((r) => r.reduce((a, b) => a + b))).toEqual([1])
  })

  it('shades counts against the largest cell', () => {
    expect(matrixMax([[3, 1], [0, 7]])).toBe(7)
    expect(matrixMax([[0, 0], [0, 0]])).toBe(1)
  })

  it('draws only a square matrix that matches the labels', () => {
    expect(isConfusion(['a', 'b'], [[1, 0], [0, 1]])).toBe(true)
    expect(isConfusion(['a', 'b'], [[1, 0]])).toBe(false)
    expect(isConfusion(['a', 'b'], [[1, 0], [0, 'x']])).toBe(false)
    expect(isConfusion(undefined, [])).toBe(false)
  })

  it('reads training_info\'s matrix as rows in `labels` order or as {labels, matrix}', () => {
    const want = { labels: ['a', 'b'], matrix: [[1, 0], [2, 3]] }
    expect(readConfusion({ labels: ['a', 'b'], confusion_matrix: [[1, 0], [2, 3]] })).toEqual(want)
    expect(readConfusion({ labels: ['x'], confusion_matrix: want })).toEqual(want)
    expect(readConfusion({ labels: ['a'], confusion_matrix: [[1, 0], [2, 3]] })).toBeNull()
    expect(readConfusion({})).toBeNull()
  })

  it('keeps the text readable (4.5:1 or more) on every shade', () => {
    for (let t = 0; t <= 1.0001; t += 0.05) {
      const { background, color } = heatColor(t)
      expect(contrast(background, color), `shade ${t.toFixed(2)}`).toBeGreaterThanOrEqual(4.5)
    }
    expect(heatColor(0)).toEqual({ background: 'rgb(255, 255, 255)', color: '#000000' })
    expect(heatColor(1).color).toBe('#ffffff')
  })
})
