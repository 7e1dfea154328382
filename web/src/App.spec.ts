import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import App from './App.vue'
import { signInNeeded } from './api'
import { fakeApi, json } from '@/testing/fakeApi'

const health = { status: 'ok', redis: true, workers: ['w1'], queue_length: 0, running: null }
const Page = { render: () => 'PAGE-CONTENT' }

async function mountApp(routes: Parameters<typeof fakeApi>[0]) {
  const api = fakeApi({ 'GET /api/health': () => health, ...routes })
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:rest(.*)*', component: Page }] })
  await router.push('/train')
  const app = mount(App, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
  return { api, app }
}

afterEach(() => {
  vi.unstubAllGlobals()
  signInNeeded.value = false
  document.body.innerHTML = ''
})

describe('App', () => {
  it('shows the page, with links to every page, when the API needs no token', async () => {
    const { app } = await mountApp({ 'GET /api/session': () => ({ token_required: false, signed_in: true }) })
    expect(app.text()).toContain('PAGE-CONTENT')
    expect(app.findAll('nav a').map((a) => a.text())).toEqual(['Fine-tune', 'Data', 'Models', 'Try it', 'Compare', 'Review'])
    expect(app.find('[data-testid="sign-in"]').exists()).toBe(false)
    expect(app.find('[data-testid="sign-out"]').exists()).toBe(false)
  })

  it('asks for the token when the API needs one, explains a wrong one, and shows the page once signed in', async () => {
    let signedIn = false
    const { api, app } = await mountApp({
      'GET /api/session': () => ({ token_required: true, signed_in: signedIn }),
      'POST /api/session': (init) => {
        signedIn = JSON.parse(String(init.body)).token === 's3cret'
        return signedIn ? { token_required: true, signed_in: true } : json({ detail: "that is not this API's token" }, 401)
      },
    })
    expect(app.find('[data-testid="sign-in"]').exists()).toBe(true)
    expect(app.text()).not.toContain('PAGE-CONTENT')
    expect(document.activeElement?.id).toBe('api-token')
    await app.find('#api-token').setValue('nope')
    await app.find('form').trigger('submit')
    await flushPromises()
    expect(app.find('[data-testid="sign-in-error"]').text()).toBe("that is not this API's token")
    await app.find('#api-token').setValue('s3cret')
    await app.find('form').trigger('submit')
    await flushPromises()
    expect(app.text()).toContain('PAGE-CONTENT')
    expect(app.find('[data-testid="sign-out"]').exists()).toBe(true)
    expect(api.calls.filter((c) => c === 'POST /api/session')).toHaveLength(2)
  })

  it('signs out back to the prompt', async () => {
    const { api, app } = await mountApp({
      'GET /api/session': () => ({ token_required: true, signed_in: true }),
      'DELETE /api/session': () => new Response(null, { status: 204 }),
    })
    await app.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    expect(api.calls).toContain('DELETE /api/session')
    expect(app.find('[data-testid="sign-in"]').exists()).toBe(true)
  })
})
