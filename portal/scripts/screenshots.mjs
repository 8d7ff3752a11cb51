// Signs in to a running server with Debian's Chromium, takes a screenshot of each main page at
// 1440 px and 375 px, and fails when any request leaves the server's origin (the portal must
// work without internet).
//
//   node scripts/screenshots.mjs --url http://127.0.0.1:8000 --email E --password P [--out DIR]
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8000' },
    email: { type: 'string' },
    password: { type: 'string' },
    out: { type: 'string', default: resolve(import.meta.dirname, '../../build/screenshots') },
    chromium: { type: 'string', default: '/usr/bin/chromium' }
  }
})
if (!args.email || !args.password) {
  console.error('screenshots: --email and --password are required')
  process.exit(2)
}

const origin = new URL(args.url).origin
const widths = [
  { name: 'desktop', width: 1440, height: 900, colorScheme: 'light' },
  { name: 'phone', width: 375, height: 812, colorScheme: 'light' },
  // Dark mode follows the system's preference until the person picks one.
  { name: 'dark', width: 1440, height: 900, colorScheme: 'dark', only: ['home', 'device'] }
]
mkdirSync(args.out, { recursive: true })

const foreign = new Set()
const failures = []

async function signIn(page) {
  await page.goto(`${origin}/sign-in`)
  await page.getByLabel('Email').fill(args.email)
  await page.getByLabel('Password', { exact: true }).fill(args.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(url => !url.pathname.startsWith('/sign-in'), { timeout: 15_000 })
}

async function firstLink(page, prefix, query = '') {
  await page.goto(`${origin}${prefix}${query}`)
  await page.waitForLoadState('networkidle')
  const href = await page.locator(`a[href^="${prefix}/"]`).first().getAttribute('href').catch(() => null)
  return href
}

async function shoot(page, view, name, path) {
  await page.goto(`${origin}${path}`)
  await page.waitForLoadState('networkidle')
  await page.waitForTimeout(600)
  // The dashboard panel scrolls inside the window: grow the window to the panel's height.
  const height = await page.evaluate(() => Math.max(...[...document.querySelectorAll('*')]
    .filter(element => element.scrollHeight > element.clientHeight + 1
      && ['auto', 'scroll'].includes(getComputedStyle(element).overflowY))
    .map(element => element.scrollHeight - element.clientHeight), 0))
  await page.setViewportSize({ width: view.width, height: Math.min(view.height + height, 5000) })
  await page.waitForTimeout(300)
  const file = join(args.out, `${name}-${view.name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  // A tall page is also saved in parts that stay readable when viewed at reduced size.
  const total = Math.min(view.height + height, 5000)
  const part = view.width < 600 ? 1200 : 1800
  for (let top = 0, index = 1; total > part && top < total; top += part, index++) {
    await page.screenshot({
      path: join(args.out, `${name}-${view.name}-part${index}.png`),
      clip: { x: 0, y: top, width: view.width, height: Math.min(part, total - top) }
    })
  }
  await page.setViewportSize({ width: view.width, height: view.height })
  console.log(`screenshots: ${file}`)
}

const browser = await chromium.launch({ executablePath: args.chromium, args: ['--no-sandbox'] })
try {
  for (const view of widths) {
    const context = await browser.newContext({
      viewport: { width: view.width, height: view.height },
      colorScheme: view.colorScheme
    })
    const page = await context.newPage()
    page.on('request', (request) => {
      const url = new URL(request.url())
      if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin
        && url.origin.replace(/^ws/, 'http') !== origin) {
        foreign.add(request.url())
      }
    })
    page.on('pageerror', error => failures.push(`${view.name}: page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') {
        failures.push(`${view.name}: console: ${message.text()}`)
      }
    })

    await page.goto(`${origin}/sign-in`)
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: join(args.out, `sign-in-${view.name}.png`), fullPage: true })
    await signIn(page)

    const device = await firstLink(page, '/devices', '?online=true')
    const site = await firstLink(page, '/sites')
    const pages = [
      ['home', '/'],
      ['devices', '/devices'],
      ...(device ? [['device', device]] : []),
      ['sites', '/sites'],
      ...(site ? [['site', site]] : []),
      ['alerts', '/alerts']
    ]
    for (const [name, path] of pages.filter(([name]) => !view.only || view.only.includes(name))) {
      await shoot(page, view, name, path)
    }
    await context.close()
  }
} finally {
  await browser.close()
}

for (const line of failures) {
  console.log(`screenshots: ${line}`)
}
if (foreign.size) {
  console.error(`screenshots: ${foreign.size} request(s) left ${origin}:`)
  for (const url of foreign) {
    console.error(`  ${url}`)
  }
  process.exit(1)
}
console.log(`screenshots: every request went to ${origin}`)
