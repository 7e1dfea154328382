/** Registers the Chart.js parts the bar and line charts use (tree-shaken) and the colours per classifier kind. */
import {
  BarElement, CategoryScale, Chart, Legend, LinearScale, LineElement, LogarithmicScale, PointElement, Tooltip,
} from 'chart.js'
import type { BenchmarkResult } from './types'

Chart.register(BarElement, CategoryScale, LinearScale, LogarithmicScale, LineElement, PointElement, Tooltip, Legend)
Chart.defaults.font.family = 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
Chart.defaults.color = '#475569'

export const KIND_COLORS: Record<BenchmarkResult['kind'], string> = {
  finetuned: '#0d9488',
  zeroshot_nli: '#8b5cf6',
  embedding: '#3b82f6',
  tfidf: '#94a3b8',
}

export const KIND_LABELS: Record<BenchmarkResult['kind'], string> = {
  finetuned: 'fine-tuned',
  zeroshot_nli: 'zero-shot NLI',
  embedding: 'embedding',
  tfidf: 'TF-IDF baseline',
}

/** Colours of the runs drawn together (the first run, the one compared with it). */
export const RUN_COLORS = ['#0d9488', '#c2410c'] as const
