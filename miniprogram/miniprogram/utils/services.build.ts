import { createApi, type ShopperApi } from './api';
import type { MiniConfig } from './config';
import type { Platform } from './platform.port';
import { TokenStore, login } from './session';
import type { RequestFn } from './api';

/** What every page uses: built once from wx by utils/services.ts, from fakes in tests, from fetch in the service's e2e. */
export interface Services {
  api: ShopperApi;
  platform: Platform;
  tokens: TokenStore;
  config: MiniConfig;
}

export function buildServices(platform: Platform, request: RequestFn, config: MiniConfig): Services {
  const tokens = new TokenStore(platform);
  const services: Services = {
    platform,
    tokens,
    config,
    api: createApi({
      baseUrl: config.apiBaseUrl,
      request,
      token: () => tokens.valid(),
      // A 401 means the token was revoked or expired server-side: log in again once, then retry.
      relogin: async () => {
        tokens.clear();
        return (await login(services.api, platform, tokens)).ok;
      },
    }),
  };
  return services;
}
