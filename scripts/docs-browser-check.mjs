#!/usr/bin/env node
// Checks the API documentation pages of a running server in Chromium, as a person uses them:
// Swagger UI lists every operation of the document, authorizes with an API token, and
// "Try it out" → Execute on GET /api/auth/me shows a 200; ReDoc lists every operation too;
// neither page trips its Content-Security-Policy. Saves screenshots.
//
//   node scripts/docs-browser-check.mjs --url http://127.0.0.1:8000 --token <api token>
//        [--screenshots build/screenshots] [--modules build/docs-assets/node_modules]
//        [--chromium /usr/bin/chromium]
//
// The same settings may come from ESOCORE_URL, ESOCORE_API_TOKEN, ESOCORE_SCREENSHOTS,
// ESOCORE_DOCS_MODULES and CHROMIUM. playwright-core comes from tools/docs (make docs-tools).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const TIMEOUT_MS = 30_000;
// Refusals that are the policy working as meant: ReDoc's "powered by" logo comes from
// Redocly's CDN, and ReDoc hides it when it does not load.
const EXPECTED_REFUSALS = [/Loading the image 'https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini\.svg'/];

function settings() {
    const { values } = parseArgs({
        options: {
            url: { type: 'string', default: process.env.ESOCORE_URL },
            token: { type: 'string', default: process.env.ESOCORE_API_TOKEN },
            screenshots: {
                type: 'string',
                default: process.env.ESOCORE_SCREENSHOTS ?? 'build/screenshots',
            },
            modules: {
                type: 'string',
                default: process.env.ESOCORE_DOCS_MODULES ?? 'build/docs-assets/node_modules',
            },
            chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
        },
    });
    if (!values.url || !values.token) {
        throw new Error('give --url and --token (or ESOCORE_URL and ESOCORE_API_TOKEN)');
    }
    return { ...values, url: values.url.replace(/\/$/, '') };
}

// What Swagger UI and ReDoc list: one entry per operation and tag.
async function expectedEntries(url) {
    const answer = await fetch(`${url}/api/schema/`);
    if (!answer.ok) {
        throw new Error(`GET /api/schema/ answered ${answer.status}`);
    }
    const document = await answer.json();
    let entries = 0;
    for (const item of Object.values(document.paths ?? {})) {
        for (const method of HTTP_METHODS) {
            if (item[method]) {
                entries += Math.max(1, item[method].tags?.length ?? 0);
            }
        }
    }
    return entries;
}

// Collects what the page's Content-Security-Policy refused and what threw.
function watchProblems(page) {
    const problems = [];
    page.on('console', (message) => {
        const text = message.text();
        const expected = EXPECTED_REFUSALS.some((refusal) => refusal.test(text));
        if (message.type() === 'error' && /Content Security Policy/i.test(text) && !expected) {
            problems.push(`CSP: ${text}`);
        }
    });
    page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
    return problems;
}

async function waitForStableCount(locator) {
    let previous = -1;
    for (let i = 0; i < 60; i++) {
        const count = await locator.count();
        if (count > 0 && count === previous) {
            return count;
        }
        previous = count;
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return locator.count();
}

async function authorize(page, token) {
    await page.locator('.auth-wrapper button.authorize').click();
    const scheme = page.locator('.modal-ux .auth-container').filter({ hasText: 'apiToken' });
    await scheme.locator('input').fill(`Token ${token}`);
    await scheme.locator('button.authorize').click();
    await scheme.locator('button.btn-done').click();
}

async function tryMe(page) {
    const operation = page.locator('#operations-auth-authMe');
    await operation.locator('.opblock-summary').first().click();
    // tryItOutEnabled opens the operation ready to run; otherwise press "Try it out".
    const tryOut = operation.locator('button.try-out__btn:not(.cancel)');
    if (await tryOut.count()) {
        await tryOut.click();
    }
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status');
    await status.first().waitFor({ timeout: TIMEOUT_MS });
    const shown = (await status.first().innerText()).trim();
    const curl = await operation.locator('.curl-command').innerText();
    await operation.scrollIntoViewIfNeeded();
    return { operation, status: shown, sentToken: /Authorization: Token /.test(curl) };
}

async function checkSwaggerUi(browser, config, expected, failures) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems = watchProblems(page);
    await page.goto(`${config.url}/api/docs/`);
    const listed = await waitForStableCount(page.locator('.opblock'));
    if (listed !== expected) {
        failures.push(`Swagger UI lists ${listed} operations; the document has ${expected}`);
    }
    await page.screenshot({ path: path.join(config.screenshots, 'api-docs-overview.png') });
    await authorize(page, config.token);
    const me = await tryMe(page);
    if (!me.status.startsWith('200')) {
        failures.push(`Try it out on GET /api/auth/me showed ${me.status}, not 200`);
    }
    if (!me.sentToken) {
        failures.push('the request Swagger UI sent carried no "Authorization: Token" header');
    }
    await page.evaluate(() => window.scrollBy(0, -80));
    await page.screenshot({ path: path.join(config.screenshots, 'api-docs.png') });
    failures.push(...problems.map((problem) => `Swagger UI: ${problem}`));
    console.log(`Swagger UI: ${listed} operations listed; GET /api/auth/me answered ${me.status}`);
    await page.close();
}

async function checkRedoc(browser, config, expected, failures) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems = watchProblems(page);
    await page.goto(`${config.url}/api/redoc/`);
    const listed = await waitForStableCount(page.locator('[data-section-id^="operation/"]'));
    if (listed !== expected) {
        failures.push(`ReDoc lists ${listed} operations; the document has ${expected}`);
    }
    await page.screenshot({ path: path.join(config.screenshots, 'api-redoc.png') });
    failures.push(...problems.map((problem) => `ReDoc: ${problem}`));
    console.log(`ReDoc: ${listed} operations listed`);
    await page.close();
}

async function main() {
    const config = settings();
    const require = createRequire(path.resolve(config.modules, 'package.json'));
    const { chromium } = require('playwright-core');
    mkdirSync(config.screenshots, { recursive: true });
    const expected = await expectedEntries(config.url);
    const browser = await chromium.launch({
        executablePath: config.chromium,
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    const failures = [];
    try {
        await checkSwaggerUi(browser, config, expected, failures);
        await checkRedoc(browser, config, expected, failures);
    } finally {
        await browser.close();
    }
    for (const failure of failures) {
        console.error(`FAIL: ${failure}`);
    }
    console.log(failures.length ? 'docs browser check: failed' : 'docs browser check: passed');
    process.exitCode = failures.length ? 1 : 0;
}

main().catch((error) => {
    console.error(`docs browser check: ${error.stack ?? error}`);
    process.exitCode = 1;
});
