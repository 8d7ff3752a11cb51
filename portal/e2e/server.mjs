// A throwaway EsoCore server for the end-to-end tests: a fresh SQLite database in a temporary
// folder, the built portal, a free loopback port, and helpers that call the API and the CLI.
import { execFile, spawn } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'

const run = promisify(execFile)

/** A password that the server's rules accept, different on every run. */
export function makePassword() {
  return `e2e-${randomBytes(12).toString('base64url')}`
}

export class TestServer {
  constructor({ esocore, portal }) {
    this.esocore = esocore
    this.work = mkdtempSync(join(tmpdir(), 'esocore-e2e-'))
    this.env = {
      ...process.env,
      ESOCORE_DATABASE_URL: `sqlite:${join(this.work, 'esocore.db')}`,
      ESOCORE_DATA_DIR: join(this.work, 'data'),
      ESOCORE_LISTEN: '127.0.0.1:0',
      ESOCORE_PORTAL_DIR: portal
    }
    this.process = null
    this.url = ''
  }

  /** Runs `esocore ARGS...` against the test database and answers its standard output. */
  async cli(...args) {
    const { stdout } = await run(this.esocore, args, { env: this.env, timeout: 30_000 })
    return stdout
  }

  async start() {
    const portFile = join(this.work, 'port')
    await this.cli('migrate')
    this.process = spawn(this.esocore, ['serve', '--port-file', portFile], {
      env: this.env,
      stdio: ['ignore', 'ignore', 'pipe']
    })
    this.log = ''
    this.process.stderr.on('data', (chunk) => {
      this.log = (this.log + chunk).slice(-20_000)
    })

    for (let attempt = 0; attempt < 300; attempt++) {
      const port = readPort(portFile)
      if (port) {
        this.url = `http://127.0.0.1:${port}`
        return
      }
      if (this.process.exitCode !== null) {
        break
      }
      await sleep(100)
    }
    throw new Error(`the server did not start:\n${this.log}`)
  }

  async stop() {
    if (this.process && this.process.exitCode === null) {
      const exited = new Promise(resolve => this.process.once('exit', resolve))
      this.process.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000)])
      if (this.process.exitCode === null) {
        this.process.kill('SIGKILL')
      }
    }
    rmSync(this.work, { recursive: true, force: true })
  }

  async createSuperuser(email, password) {
    await this.cli('createsuperuser', '--email', email, '--password', password, '--name', 'Ada Admin')
  }

  /** Registers one device and answers `{ id, serial, key, model }` (the key is shown once). */
  async createDevice(serial) {
    const [device] = JSON.parse(await this.cli('device', 'create', '--serial', serial, '--json'))
    return device
  }

  /** An access token for the management API (`Authorization: Bearer`). */
  async signIn(email, password) {
    const answer = await this.api('POST', '/api/auth/login', { email, password, mode: 'token' })
    return answer.access_token
  }

  async api(method, path, body, token) {
    const headers = { 'content-type': 'application/json' }
    if (token) {
      headers.authorization = `Bearer ${token}`
    }
    const answer = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000)
    })
    const text = await answer.text()
    if (!answer.ok) {
      throw new Error(`${method} ${path} answered ${answer.status}: ${text}`)
    }
    return text ? JSON.parse(text) : null
  }

  /** GET /api/iot/v1/config as the device does: answers the status and the ETag. */
  async deviceConfig(device) {
    const answer = await fetch(`${this.url}/api/iot/v1/config`, {
      headers: { 'x-device-id': device.serial, 'x-auth-key': device.key },
      signal: AbortSignal.timeout(15_000)
    })
    await answer.arrayBuffer()
    return { status: answer.status, etag: answer.headers.get('etag') }
  }

  /** Uploads the product description's example batch as `device`, stamped a minute ago. */
  async uploadExampleBatch(device, examplePath) {
    const now = Date.now() - 60_000
    const records = JSON.parse(readFileSync(examplePath, 'utf8')).map((record, index) => ({
      ...record,
      device_id: device.serial,
      ts: new Date(now + index * 1_000).toISOString()
    }))
    const body = gzipSync(JSON.stringify(records))
    const answer = await fetch(`${this.url}/api/iot/v1/telemetry/batch`, {
      method: 'POST',
      headers: {
        'x-device-id': device.serial,
        'x-auth-key': device.key,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'idempotency-key': randomUUID(),
        'content-sha256': createHash('sha256').update(body).digest('hex')
      },
      body,
      signal: AbortSignal.timeout(15_000)
    })
    const text = await answer.text()
    if (!answer.ok) {
      throw new Error(`the example batch answered ${answer.status}: ${text}`)
    }
    return JSON.parse(text)
  }

  /** Starts esocore-sim for the devices of a fleet file; answers the child process. */
  startSimulator(simulator, devices, seconds) {
    const fleet = join(this.work, 'sim-fleet.json')
    writeFileSync(fleet, JSON.stringify({ devices }))
    const child = spawn(simulator, [
      '--server', this.url,
      '--fleet', fleet,
      '--esocore', this.esocore,
      '--devices', String(devices.length),
      '--duration', String(seconds),
      '--batch-interval', '2',
      '--seed', '8',
      '--log-level', 'warn'
    ], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr.resume()
    return child
  }
}

function readPort(file) {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return ''
  }
}
