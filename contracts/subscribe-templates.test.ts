import { defaultConfig } from '../miniprogram/miniprogram/utils/config';
import { wechatConfigFromEnv } from '../payments/wechatpay/wechat.config';
import { SUBSCRIBE_TEMPLATES } from './subscribe-templates';

describe('subscribe templates: the service sends what the mini-program asks consent for', () => {
  it('the service’s sender uses the shared ids', () => {
    const c = wechatConfigFromEnv({ WECHAT_MODE: 'live' });
    expect({ created: c.debtCreatedTemplateId, cleared: c.debtClearedTemplateId }).toEqual({ created: SUBSCRIBE_TEMPLATES.debtCreated, cleared: SUBSCRIBE_TEMPLATES.debtCleared });
  });

  it('the mini-program’s consent prompts use the same ids', () => {
    expect(defaultConfig.templates).toEqual(SUBSCRIBE_TEMPLATES);
  });
});
