import * as path from 'path';
import * as simulate from 'miniprogram-simulate';
import { buildServices, setServices, type Services } from '../utils/services';
import type { MiniConfig } from '../utils/config';
import { BASE, FakeServer } from './fake-server';
import { FakePlatform } from './fake-platform';
import { SUBSCRIBE_TEMPLATES } from '../../../contracts/subscribe-templates';

// The ids the service sends (contracts/subscribe-templates.ts), so a prompt for any other template fails a test.
export const TEMPLATES = SUBSCRIBE_TEMPLATES;
const config: MiniConfig = { apiBaseUrl: BASE, templates: TEMPLATES, pollDelaysMs: [500, 1000, 2000] };

export const ROOT = path.resolve(__dirname, '..');

export interface World {
  server: FakeServer;
  platform: FakePlatform;
  services: Services;
}

/** A fresh fake server and platform, installed as the pages' services. */
export function world(): World {
  const server = new FakeServer();
  const platform = new FakePlatform();
  const services = buildServices(platform, server.request, config);
  setServices(services);
  return { server, platform, services };
}

/** Lets every pending promise chain (fake requests, page handlers) run to completion. */
export async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

type Page = ReturnType<typeof simulate.render>;

/** Under jest the page module runs once per test file (require.cache eviction has no effect), so ids are reused. */
const loaded = new Map<string, string>();

/** Loads a page (written with Component(), as miniprogram-simulate cannot load Page()) and attaches it. */
export function renderPage(name: string): Page {
  let id = loaded.get(name);
  if (!id) {
    id = simulate.load(path.join(ROOT, 'pages', name, 'index'), { compiler: 'simulate', rootPath: ROOT });
    loaded.set(name, id);
  }
  const page = simulate.render(id);
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

/** Runs a page's onLoad with the query WeChat would pass, then onShow, and waits for the effects. */
export async function openPage(name: string, query: Record<string, string> = {}): Promise<Page> {
  const page = renderPage(name);
  const inst = page.instance as unknown as { onLoad?(q: Record<string, string>): unknown; onShow?(): unknown };
  inst.onLoad?.(query);
  inst.onShow?.();
  await settle();
  return page;
}

export function text(page: Page, selector: string): string | undefined {
  return page.querySelector(selector)?.dom?.textContent?.trim();
}

export function has(page: Page, selector: string): boolean {
  return page.querySelector(selector) !== undefined && page.querySelector(selector) !== null;
}

export async function tap(page: Page, selector: string, detail?: unknown): Promise<void> {
  const el = page.querySelector(selector);
  if (!el) throw new Error(`nothing matches ${selector}`);
  el.dispatchEvent('tap', detail === undefined ? {} : { detail });
  await settle();
}

export { simulate };
