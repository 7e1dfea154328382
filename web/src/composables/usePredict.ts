/** Classifying emails with a published model: the predictions, or why not (a busy server says when to retry). */
import { ref, shallowRef } from 'vue'
import { api, ApiError } from '@/api'
import type { EmailText, PredictResult } from '@/types'

export function usePredict() {
  const result = shallowRef<PredictResult | null>(null)
  const emails = shallowRef<EmailText[]>([])
  const error = ref<string | null>(null)
  const busy = ref(false)

  async function predict(model: string, batch: EmailText[], topK = 3) {
    busy.value = true
    error.value = null
    try {
      result.value = await api.predict(model, batch, topK)
      emails.value = batch
    } catch (e) {
      const wait = e instanceof ApiError && e.status === 503 ? e.retryAfter : null
      error.value = wait != null
        ? `The model server is busy: try again in ${wait} s.`
        : `Could not classify: ${(e as Error).message}`
    } finally {
      busy.value = false
    }
  }

  function clear() {
    result.value = null
    emails.value = []
  }

  return { result, emails, error, busy, predict, clear }
}
