/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What every page of the e2e is held to: no serious or critical axe violation (WCAG 2.1 A/AA), every control reached
 * by Tab with a visible focus ring, no sideways scrolling at phone width, and a screenshot at 1440 and 390 px.
 */
import AxeBuilder from '@axe-core/playwright'
import { expect, type Page } from '@playwright/test'
import { fileURLToPath } from 'node:url'

export const ARTIFACTS = process.env.AVOCET_E2E_ARTIFACTS ?? fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
export const WIDTHS = [1440, 390] as const

/** Two animation frames: a layout (and Chart.js' resize) after a viewport change has been painted. */
export const settled = (page: Page) =>
  page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))

export async function expectAccessible(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => `${n.html.slice(0, 100)} ${n.failureSummary ?? ''}`).join(' | ')}`)
  expect(bad, `axe on ${what}`).toEqual([])
}

/** Tabs through the page: every visible, enabled control is reached, each with a visible focus outline. */
export async function expectKeyboardReachable(page: Page, what: string) {
  const count = await page.evaluate(() => {
    const sel = 'a[href], button, input, select, textarea, summary, [tabindex="0"]'
    const folded = (el: HTMLElement) => { // inside a closed <details>, other than its own summary
      const details = el.closest('details:not([open])')
      return !!details && el.closest('summary')?.parentElement !== details
    }
    const shown = [...document.querySelectorAll<HTMLElement>(sel)].filter((el) => !el.matches(':disabled, [tabindex="-1"]')
      && el.checkVisibility() && !folded(el) && !el.closest('[inert], dialog:not([open])'))
    document.querySelectorAll('[data-kb]').forEach((el) => el.removeAttribute('data-kb'))
    shown.forEach((el, i) => el.setAttribute('data-kb', String(i)))
    shown[0]?.focus() // Tab from the top of the page (the skip link), wherever focus was before
    return shown.length
  })
  const reached = new Set<string>(count ? ['0'] : [])
  const unringed: string[] = []
  for (let i = 0; i < count + 5 && reached.size < count; i++) {
    await page.keyboard.press('Tab')
    const seen = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null
      if (!el || el === document.body) return null
      const style = getComputedStyle(el)
      const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
      return { id: el.getAttribute('data-kb'), ring, name: `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}"` }
    })
    if (!seen?.id) continue
    reached.add(seen.id)
    if (!seen.ring) unringed.push(seen.name)
  }
  const missed = await page.evaluate((ids) => [...document.querySelectorAll<HTMLElement>('[data-kb]')]
    .filter((el) => !ids.includes(el.dataset.kb!)).map((el) => el.outerHTML.slice(0, 120)), [...reached])
  expect(missed, `controls Tab never reached on ${what}`).toEqual([])
  expect(unringed, `controls focused without a visible ring on ${what}`).toEqual([])
}

/** Screenshots at each width (full page), checking the layout never scrolls sideways; back to 1440 afterwards. */
export async function shoot(page: Page, name: string) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 })
    await settled(page)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow, `${name} scrolls sideways at ${width} px`).toBeLessThanOrEqual(0)
    if (width === 390) await expectAccessible(page, `${name} at 390 px`)
    await page.screenshot({ path: `${ARTIFACTS}/web-${name}-${width}.png`, fullPage: true })
  }
  await page.setViewportSize({ width: 1440, height: 900 })
  await settled(page)
}

/** The full check of a page in its current state. */
export async function checkPage(page: Page, name: string) {
  await expectAccessible(page, name)
  await shoot(page, name)
  await expectKeyboardReachable(page, name)
}

/** Content-Security-Policy violations Chromium reports on the console: the app must run under the server's strict
 * policy (api/headers.py), so any "Refused to ..." line is a failure. */
export function watchCsp(page: Page): string[] {
  const seen: string[] = []
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) seen.push(m.text()) })
  return seen
}
