/**
 * The Advanced fields of the fine-tune form: every Hyperparameters field with the API's own bounds and defaults
 * (generated into src/generated/rules.ts), checked in place; an empty field means "the default".
 */
import { HYPERPARAMETER_RULES } from '@/generated/rules'
import type { BaseModelInfo, Hyperparameters } from '@/types'

export type HyperKey = keyof typeof HYPERPARAMETER_RULES
type Rules = typeof HYPERPARAMETER_RULES
export type HyperRule = Rules[HyperKey]
/** A number field (a text input with bounds) ... */
export type NumberRule = Extract<HyperRule, { maximum: number }>
/** ... or a yes/no or one-of field (a select). */
export type ChoiceRule = Extract<HyperRule, { choices: readonly unknown[] }>
export const HYPER_KEYS = Object.keys(HYPERPARAMETER_RULES) as HyperKey[]
export const hyperRule = (key: HyperKey): HyperRule => HYPERPARAMETER_RULES[key]
export const choiceRule = (key: HyperKey): ChoiceRule | null => {
  const r = hyperRule(key)
  return 'choices' in r ? (r as ChoiceRule) : null
}
const numberRule = (key: HyperKey): NumberRule => hyperRule(key) as NumberRule

/** The value the run uses when the field is left empty: the schema's default, else the base model's (learning rate). */
export function hyperDefault(key: HyperKey, base?: BaseModelInfo | null): number | string | boolean | null {
  const own = hyperRule(key).default as number | string | boolean | null
  if (own != null) return own
  return key === 'learning_rate' ? (base?.learning_rate ?? null) : null
}

/** The allowed range in words, e.g. "1 to 256", "above 0, at most 0.01" or "one of: true, false". */
export function rangeText(key: HyperKey): string {
  const c = choiceRule(key)
  if (c) return `one of: ${c.choices.join(', ')}`
  const r = numberRule(key)
  return r.minimum != null ? `${r.minimum} to ${r.maximum}` : `above ${r.exclusiveMinimum}, at most ${r.maximum}`
}

/** Why the raw text would be refused by the API, or null when it is fine (empty: the default). */
export function hyperProblem(key: HyperKey, raw: string): string | null {
  const text = raw.trim()
  if (!text) return null
  const c = choiceRule(key)
  if (c) return c.choices.map(String).includes(text) ? null : `${c.title} must be ${rangeText(key)}.`
  const r = numberRule(key)
  const n = Number(text)
  const what = r.title
  if (!Number.isFinite(n)) return `${what}: "${text}" is not a number; enter ${rangeText(key)}.`
  if (r.type === 'integer' && !Number.isInteger(n)) return `${what} must be a whole number, ${rangeText(key)}.`
  const low = r.minimum != null ? n < r.minimum : n <= (r.exclusiveMinimum ?? -Infinity)
  if (low || n > r.maximum) return `${what} must be ${rangeText(key)}; ${text} is out of range.`
  return null
}

/** The `hyperparameters` body from the raw fields: only the ones filled in, as numbers, booleans or the chosen
 * word (the rest: defaults). */
export function hyperBody(raw: Partial<Record<HyperKey, string>>): Partial<Hyperparameters> {
  const body: Partial<Record<HyperKey, number | string | boolean>> = {}
  for (const key of HYPER_KEYS) {
    const text = raw[key]?.trim()
    if (!text || hyperProblem(key, text)) continue
    const c = choiceRule(key)
    body[key] = !c ? Number(text) : c.type === 'boolean' ? text === 'true' : text
  }
  return body as Partial<Hyperparameters>
}

/** A note for max_tokens above what the base model reads: the service cuts it to the model's limit. */
export function maxTokensNote(raw: string, base?: BaseModelInfo | null): string | null {
  const n = Number(raw.trim() || hyperDefault('max_tokens'))
  if (!base || !Number.isFinite(n) || n <= base.max_tokens) return null
  return `${base.key} reads at most ${base.max_tokens} tokens: the run uses ${base.max_tokens}.`
}
