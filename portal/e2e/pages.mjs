// Screenshots and axe-core checks of the portal's pages, shared by the end-to-end tests.
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const axePath = require.resolve('axe-core/axe.min.js')

/** Waits until the page has settled: no request in flight and the charts drawn. */
async function settle(page) {
  await page.waitForLoadState('networkidle')
  await page.waitForTimeout(500)
}

/**
 * Saves `<name>-<width>.png` of each page. The dashboard panel scrolls inside the window, so
 * the window first grows to the panel's full height to get the whole page in one image.
 */
export async function shootPages(page, origin, pages, folder) {
  const viewport = page.viewportSize()
  for (const { name, path } of pages) {
    await page.setViewportSize(viewport)
    await page.goto(`${origin}${path}`)
    await settle(page)
    const hidden = await page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('*')]
      .filter(element => ['auto', 'scroll'].includes(getComputedStyle(element).overflowY))
      .map(element => element.scrollHeight - element.clientHeight)))
    if (hidden > 0) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height + Math.min(hidden, 6_000) })
      await settle(page)
    }
    await page.screenshot({ path: join(folder, `${name}-${viewport.width}.png`) })
  }
  await page.setViewportSize(viewport)
}

/** axe-core's serious and critical findings on the open page, one line each. */
export async function checkAccessibility(page, where) {
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.addScriptTag({ path: axePath })
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }
    })
    return result.violations.map(violation => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      // For contrast, the colours and ratio that axe measured say what to change.
      targets: violation.nodes.slice(0, 3).map((node) => {
        const data = node.any?.[0]?.data
        const colours = data?.contrastRatio
          ? ` [${data.fgColor} on ${data.bgColor}: ${data.contrastRatio}]`
          : ''
        return node.target.join(' ') + colours
      })
    }))
  })
  return violations
    .filter(violation => violation.impact === 'serious' || violation.impact === 'critical')
    .map(violation => `${where}: ${violation.id} (${violation.impact}) ${violation.help}: `
      + violation.targets.join(', '))
}
