/**
 * Signing in, when the API has a token: whether it needs one (GET /api/session), trading the token typed into the
 * page for the session cookie, and signing out. Requests that met a 401 resume by themselves after signing in.
 */
import { ref, shallowRef } from 'vue'
import { api, signInNeeded } from '@/api'
import type { SessionState } from '@/types'

export function useSession() {
  const state = shallowRef<SessionState | null>(null)
  const error = ref<string | null>(null)
  const busy = ref(false)

  async function check() {
    try {
      state.value = await api.session()
      if (state.value.token_required && !state.value.signed_in) signInNeeded.value = true
    } catch {
      state.value = { token_required: false, signed_in: true } // unknown: a 401 from any route asks for the token
    }
  }

  async function signIn(token: string): Promise<boolean> {
    busy.value = true
    error.value = null
    try {
      state.value = await api.signIn(token)
      return true
    } catch (e) {
      error.value = (e as Error).message
      return false
    } finally {
      busy.value = false
    }
  }

  async function signOut() {
    await api.signOut().catch(() => null)
    state.value = { token_required: true, signed_in: false }
    signInNeeded.value = true
  }

  check()
  return { state, error, busy, check, signIn, signOut }
}
