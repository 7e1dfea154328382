/** Input rules checked in the browser before anything is sent (the API checks them again: 422). */

export const EPOCHS_MIN = 1
export const EPOCHS_MAX = 20

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Why an optional run name would be refused, or null when it is fine (empty means: let the service choose). */
export function nameProblem(raw: string): string | null {
  const text = raw.trim()
  if (!text || NAME.test(text)) return null
  return 'Use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.'
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
