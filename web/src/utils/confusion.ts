/**
 * The confusion matrix of training_info.json (rows: true label, columns: predicted, in `labels` order): counts,
 * rows normalised to shares, and heat-map colours whose text keeps a readable contrast on every shade.
 */

/** Each row divided by its sum (the share of that true label predicted as each column); an empty row stays 0. */
export function normalizeRows(matrix: readonly (readonly number[])[]): number[][] {
  return matrix.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0)
    return row.map((n) => (sum > 0 ? n / sum : 0))
  })
}

/** The largest cell, so counts can be shaded against it (at least 1, so an all-zero matrix stays white). */
export const matrixMax = (matrix: readonly (readonly number[])[]) => Math.max(1, ...matrix.flat())

export interface Confusion { labels: string[]; matrix: number[][] }

/**
 * The matrix of a training_info.json and its labels: `confusion_matrix` as rows in `labels` order (docs/contracts.md),
 * or as `{labels, matrix}`; null when neither is a square matrix matching its labels (then nothing is drawn).
 */
export function readConfusion(info: { labels?: unknown; confusion_matrix?: unknown }): Confusion | null {
  const raw = info.confusion_matrix as { labels?: unknown; matrix?: unknown } | unknown[] | undefined
  const [labels, matrix] = Array.isArray(raw) ? [info.labels, raw] : [raw?.labels ?? info.labels, raw?.matrix]
  const names = Array.isArray(labels) ? labels.map(String) : undefined
  return names && isConfusion(names, matrix) ? { labels: names, matrix } : null
}

/** True when the matrix is square and matches the labels (anything else is not drawn). */
export function isConfusion(labels: readonly string[] | undefined, matrix: unknown): matrix is number[][] {
  return Array.isArray(matrix) && !!labels?.length && matrix.length === labels.length &&
    matrix.every((row) => Array.isArray(row) && row.length === labels.length && row.every(Number.isFinite))
}

const FROM = [255, 255, 255]
const TO = [17, 94, 89] // teal-800

const channel = (c: number) => {
  const s = c / 255
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
}
const luminance = (rgb: number[]) => 0.2126 * channel(rgb[0]!) + 0.7152 * channel(rgb[1]!) + 0.0722 * channel(rgb[2]!)

/** Background for a share `t` in 0..1, and black or white text, whichever contrasts more (always over 4.5:1). */
export function heatColor(t: number): { background: string; color: string } {
  const k = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0))
  const rgb = FROM.map((from, i) => Math.round(from + (TO[i]! - from) * k))
  const l = luminance(rgb)
  const color = (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff'
  return { background: `rgb(${rgb.join(', ')})`, color }
}
