import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_ACCOUNTS_FILE } from '../../app/console';

/** Debian's chromium (tools/setup installs it); CHROMIUM_BIN overrides. Never a browser downloaded by playwright. */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve(__dirname, '..', '..', 'artifacts', 'screenshots');

/** Headless chromium in a fresh profile, with the flags this closed network needs (docs: platform-notes.md). */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: run \`node tools/setup/setup.mjs --with-browser\` (installs Debian's chromium as root) or set CHROMIUM_BIN`);
  const profile = mkdtempSync(join(tmpdir(), 'cf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** The demo console accounts' generated passwords (SEED_DEMO writes them to DATA_DIR), by username. */
export function demoPasswords(dataDir: string): Record<string, string> {
  const list = JSON.parse(readFileSync(join(dataDir, DEMO_ACCOUNTS_FILE), 'utf8')) as Array<{ username: string; password: string }>;
  return Object.fromEntries(list.map((c) => [c.username, c.password]));
}

/** Opens the console in a new tab (its own sessionStorage, so its own sign-in), in English unless told. */
export async function signIn(context: BrowserContext, baseUrl: string, username: string, password: string, lang: 'en' | 'zh' = 'en'): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript((l) => localStorage.setItem('console.lang', l), lang);
  await page.goto(`${baseUrl}/admin/`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#who');
  return page;
}
