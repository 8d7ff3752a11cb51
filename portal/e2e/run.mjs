#!/usr/bin/env node
// The portal's end-to-end tests: the real server (`esocore serve` on a fresh SQLite database,
// loopback only) serving the built portal, driven in Debian's Chromium with playwright-core,
// and esocore-sim uploading as a device would. Saves screenshots of the main pages at 1440 px
// and 375 px and fails on serious or critical axe-core findings.
//
//   node portal/e2e/run.mjs --esocore build/esocore --sim build/esocore-sim
//        [--portal portal/.output/public] [--screenshots build/screenshots]
//        [--chromium /usr/bin/chromium]
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { checkAccessibility, shootPages } from './pages.mjs'
import { makePassword, TestServer } from './server.mjs'

const root = resolve(import.meta.dirname, '../..')
const { values: options } = parseArgs({
  options: {
    esocore: { type: 'string', default: join(root, 'build/esocore') },
    sim: { type: 'string', default: join(root, 'build/esocore-sim') },
    portal: { type: 'string', default: join(root, 'portal/.output/public') },
    screenshots: { type: 'string', default: join(root, 'build/screenshots') },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' }
  }
})

const STEP_MS = 20_000
const admin = { email: 'ada@example.com', password: makePassword() }
const viewer = { email: 'victor@example.com', password: makePassword() }
const server = new TestServer({ esocore: resolve(options.esocore), portal: resolve(options.portal) })

let browser
let adminPage
let simulated
let configured
let simulator
let site

before(async () => {
  await server.createSuperuser(admin.email, admin.password)
  simulated = await server.createDevice('E2E-SIM-1')
  configured = await server.createDevice('E2E-CFG-1')
  await server.start()

  const token = await server.signIn(admin.email, admin.password)
  const { results: [organization] } = await server.api('GET', '/api/organizations', undefined, token)
  await server.api('POST', '/api/users', {
    email: viewer.email,
    password: viewer.password,
    name: 'Victor Viewer',
    organization_id: organization.id,
    role: 'viewer'
  }, token)
  site = await server.api('POST', '/api/sites', {
    organization_id: organization.id,
    name: 'North plant',
    time_zone: 'Europe/Berlin'
  }, token)
  await server.api('PATCH', `/api/devices/${configured.id}`, { site_id: site.id }, token)
  await server.uploadExampleBatch(configured, join(root, 'examples/batch.json'))

  browser = await chromium.launch({ executablePath: options.chromium, args: ['--no-sandbox'] })
  adminPage = await newPage()
}, { timeout: 60_000 })

after(async () => {
  simulator?.kill('SIGTERM')
  await browser?.close()
  await server.stop()
})

async function newPage(contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...contextOptions })
  context.setDefaultTimeout(STEP_MS)
  // Loopback only: anything else would fail on an install without internet.
  await context.route(url => !url.href.startsWith(server.url), route => route.abort())
  return context.newPage()
}

async function signIn(page, person) {
  await page.goto(`${server.url}/sign-in`)
  await page.getByLabel('Email').fill(person.email)
  await page.getByLabel('Password', { exact: true }).fill(person.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(url => !url.pathname.startsWith('/sign-in'))
}

test('an administrator signs in and sees the dashboard', { timeout: 30_000 }, async () => {
  await signIn(adminPage, admin)
  assert.equal(new URL(adminPage.url()).pathname, '/')
  await adminPage.getByText('Home', { exact: true }).first().waitFor()
})

test('a simulated device turns online and its chart moves without a reload',
  { timeout: 90_000 }, async () => {
    const page = adminPage
    await page.goto(`${server.url}/devices/${simulated.id}`)
    const status = page.locator('main, body').getByText('Offline', { exact: true }).first()
    await status.waitFor()
    await page.evaluate(() => {
      window.e2eMarker = 'not reloaded'
    })

    simulator = server.startSimulator(resolve(options.sim), [simulated], 120)
    await page.getByText('Online', { exact: true }).first().waitFor({ timeout: 40_000 })

    // Counting readings per bucket makes each upload visible in the newest bucket.
    await page.getByRole('combobox', { name: 'Aggregation' }).click()
    await page.getByRole('option', { name: 'count', exact: true }).click()
    const chart = page.getByRole('img', { name: /^current_rms, count/ })
    await chart.waitFor({ timeout: 40_000 })
    const latest = page.locator('[data-metric="current_rms"] [data-latest]')
    await latest.filter({ hasText: /\d/ }).waitFor({ timeout: 40_000 })
    const first = await latest.textContent()
    await page.waitForFunction(
      ([selector, before]) => {
        const text = document.querySelector(selector)?.textContent ?? ''
        return /\d/.test(text) && text !== before
      },
      ['[data-metric="current_rms"] [data-latest]', first],
      { timeout: 40_000 }
    )
    assert.equal(await page.evaluate(() => window.e2eMarker), 'not reloaded')
  })

test('the chart exports its range as CSV', { timeout: 30_000 }, async () => {
  const page = adminPage
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click()
  ])
  const file = await download.path()
  const lines = readFileSync(file, 'utf8').trim().split('\r\n')
  assert.equal(lines[0], 'timestamp,device,metric,value,unit')
  assert.ok(lines.length > 1, 'the export holds readings')
  assert.match(lines[1], /,E2E-SIM-1,/)
})

test('an operator acknowledges an event', { timeout: 30_000 }, async () => {
  const page = adminPage
  await page.goto(`${server.url}/alerts`)
  const acknowledge = page.getByRole('button', { name: 'Acknowledge' }).first()
  await acknowledge.waitFor()
  const before = await page.getByRole('button', { name: 'Acknowledge' }).count()
  await acknowledge.click()
  await page.waitForFunction(
    count => [...document.querySelectorAll('button')]
      .filter(button => button.textContent?.trim() === 'Acknowledge').length < count,
    before
  )
  const token = await server.signIn(admin.email, admin.password)
  const events = await server.api('GET', `/api/events?device_id=${configured.id}&status=acknowledged`,
    undefined, token)
  assert.ok(events.results.length >= 1, 'the server holds the acknowledgement')
})

test('editing the configuration changes the device API ETag', { timeout: 30_000 }, async () => {
  const page = adminPage
  const before = await server.deviceConfig(configured)
  assert.equal(before.status, 200)
  assert.ok(before.etag, 'the device API answers an ETag')

  await page.goto(`${server.url}/devices/${configured.id}`)
  // The editor takes the stored overrides when they arrive: edit only after that.
  const editor = page.getByLabel('Configuration overrides as JSON')
  await editor.waitFor()
  await page.waitForFunction(
    () => document.querySelector('textarea[aria-label="Configuration overrides as JSON"]')?.value !== ''
  )
  await editor.fill(JSON.stringify({ upload_interval_s: 17 }, null, 2))
  const [saved] = await Promise.all([
    page.waitForResponse(answer => answer.url().endsWith(`/api/devices/${configured.id}/configuration`)
      && answer.request().method() !== 'GET'),
    page.getByRole('button', { name: 'Save configuration' }).click()
  ])
  assert.ok(saved.ok(), `saving answered ${saved.status()}`)

  const afterSave = await server.deviceConfig(configured)
  assert.equal(afterSave.status, 200)
  assert.notEqual(afterSave.etag, before.etag)
})

test('rotating a device key shows the new key once and it works', { timeout: 30_000 }, async () => {
  const page = adminPage
  await page.goto(`${server.url}/devices/${configured.id}`)
  await page.getByRole('button', { name: 'Rotate key' }).first().click()
  const dialog = page.getByRole('dialog')
  await dialog.getByRole('button', { name: 'Rotate key' }).click()
  const secret = dialog.getByTestId('secret')
  await secret.waitFor()
  const key = (await secret.textContent()).trim()
  assert.notEqual(key, configured.key)

  const answer = await server.deviceConfig({ serial: configured.serial, key })
  assert.equal(answer.status, 200)
  await dialog.getByRole('button', { name: 'I have saved the key' }).click()
  await dialog.waitFor({ state: 'hidden' })
})

test('a viewer sees no admin actions and is told why a page is closed', { timeout: 45_000 }, async () => {
  const page = await newPage()
  await signIn(page, viewer)

  await page.goto(`${server.url}/devices/${configured.id}`)
  await page.getByRole('heading', { name: 'Configuration' }).waitFor()
  assert.equal(await page.getByRole('button', { name: 'Rotate key' }).count(), 0)
  assert.equal(await page.getByRole('button', { name: 'Save configuration' }).count(), 0)

  await page.goto(`${server.url}/alerts`)
  await page.getByText('Alerts', { exact: true }).first().waitFor()
  await page.waitForLoadState('networkidle')
  assert.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0)
  assert.equal(await page.getByRole('link', { name: 'Audit log' }).count(), 0)

  await page.goto(`${server.url}/audit`)
  await page.getByText('This page is for administrators').waitFor()
  await page.context().close()
})

test('screenshots of every main page at 1440 px and 375 px, and no serious axe findings',
  { timeout: 180_000 }, async () => {
    await mkdir(options.screenshots, { recursive: true })
    const pages = [
      { name: 'home', path: '/' },
      { name: 'devices', path: '/devices' },
      { name: 'device', path: `/devices/${simulated.id}` },
      { name: 'sites', path: '/sites' },
      { name: 'site', path: `/sites/${site.id}` },
      { name: 'alerts', path: '/alerts' },
      { name: 'audit', path: '/audit' }
    ]
    const findings = []
    for (const viewport of [{ width: 1440, height: 900 }, { width: 375, height: 812 }]) {
      const page = await newPage({ viewport, bypassCSP: true })
      await page.goto(`${server.url}/sign-in`)
      await shootPages(page, server.url, [{ name: 'sign-in', path: '/sign-in' }], options.screenshots)
      findings.push(...await checkAccessibility(page, 'sign-in'))
      await signIn(page, admin)
      await shootPages(page, server.url, pages, options.screenshots)
      for (const { name, path } of pages) {
        await page.goto(`${server.url}${path}`)
        await page.waitForLoadState('networkidle')
        findings.push(...await checkAccessibility(page, `${name} at ${viewport.width} px`))
      }
      await page.context().close()
    }
    assert.deepEqual(findings, [])
  })
