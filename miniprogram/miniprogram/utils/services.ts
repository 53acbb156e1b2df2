import { createApi, type ShopperApi } from './api';
import { configFor, type MiniConfig } from './config';
import { sandboxPlatform } from './sandbox-platform';
import { wxPlatform, wxRequest, type Platform } from './platform';
import { TokenStore, login } from './session';
import type { RequestFn } from './api';

/** What every page uses; built once from wx, replaced wholesale in tests. */
export interface Services {
  api: ShopperApi;
  platform: Platform;
  tokens: TokenStore;
  config: MiniConfig;
}

let current: Services | undefined;

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

export function services(): Services {
  if (!current) {
    const config = configFor(wx.getAccountInfoSync().miniProgram.envVersion);
    const request = wxRequest();
    current = buildServices(config.sandbox ? sandboxPlatform(wxPlatform, request, config.apiBaseUrl) : wxPlatform, request, config);
  }
  return current;
}

/** Tests (and only tests) swap the whole set. */
export function setServices(s: Services | undefined): void {
  current = s;
}
