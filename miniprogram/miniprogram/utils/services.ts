import { configFor } from './config';
import { sandboxPlatform } from './sandbox-platform';
import { wxPlatform, wxRequest } from './platform';
import { buildServices, type Services } from './services.build';

export { buildServices, type Services } from './services.build';

let current: Services | undefined;

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
