/**
 * Input rules checked in the browser before anything is sent. The rules themselves are the API's (FinetuneParams in
 * its OpenAPI schema, generated into src/generated/rules.ts), so the browser refuses exactly what the server would.
 */
import { FINETUNE_RULES } from '@/generated/rules'

export const EPOCHS_MIN = FINETUNE_RULES.epochs.minimum
export const EPOCHS_MAX = FINETUNE_RULES.epochs.maximum
export const EPOCHS_DEFAULT = FINETUNE_RULES.epochs.default
/** Null when the API declares no maxLength (its pattern bounds the length). */
export const NAME_MAX_LENGTH: number | null = FINETUNE_RULES.name.maxLength
export const NAME_PATTERN: string = FINETUNE_RULES.name.pattern

const NAME = new RegExp(NAME_PATTERN)

/** Why an optional run name would be refused, or null when it is fine (empty means: let the service choose). */
export function nameProblem(raw: string): string | null {
  const text = raw.trim()
  if (!text || (NAME.test(text) && text.length <= (NAME_MAX_LENGTH ?? Infinity))) return null
  // The words describe the pattern shown after them; validation.spec.ts fails when the two part.
  return `Use lower-case letters, digits, "_" or "-" only (the service's rule: ${NAME_PATTERN}).`
}

/** Why a raw input cannot be used as epochs, or null when it can. */
export function epochsProblem(raw: string): string | null {
  const text = raw.trim()
  if (!text) return `Enter the number of epochs, from ${EPOCHS_MIN} to ${EPOCHS_MAX}.`
  const n = Number(text)
  if (!Number.isFinite(n)) return `"${text}" is not a number; enter ${EPOCHS_MIN} to ${EPOCHS_MAX}.`
  if (!Number.isInteger(n)) return `Epochs must be a whole number from ${EPOCHS_MIN} to ${EPOCHS_MAX}.`
  if (n < EPOCHS_MIN || n > EPOCHS_MAX) return `Epochs must be from ${EPOCHS_MIN} to ${EPOCHS_MAX}; ${n} is out of range.`
  return null
}
