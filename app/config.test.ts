import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies defaults and freezes the result', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(8080);
    expect(c.db.uri).toBeUndefined();
    expect(c.seedDemo).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(() => {
      (c.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('reads typed values', () => {
    const c = loadConfig({ PORT: '9000', MONGODB_URI: 'mongodb://db.example:27017', SEED_DEMO: 'false', LOG_LEVEL: 'warn' });
    expect(c.http.port).toBe(9000);
    expect(c.db.uri).toBe('mongodb://db.example:27017');
    expect(c.seedDemo).toBe(false);
    expect(c.log.level).toBe('warn');
  });

  it('log format: auto (by terminal) unless LOG_FORMAT says json or pretty', () => {
    expect(loadConfig({}).log.format).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).log.format).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });

  it('GC setting: 100% growth by default, 0 leaves V8 alone, out of range refused', () => {
    expect(loadConfig({}).gc).toEqual({ heapGrowingPercent: 100 });
    expect(loadConfig({ GC_HEAP_GROWING_PERCENT: '0' }).gc).toEqual({ heapGrowingPercent: 0 });
    expect(() => loadConfig({ GC_HEAP_GROWING_PERCENT: '900' })).toThrow(/GC_HEAP_GROWING_PERCENT/);
  });

  it('lists every problem, naming each field', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', MONGODB_URI: 'postgres://x', SECRETS_KEY: 'short' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/^PORT: .*\(got "eighty"\)$/m);
    expect(problems.join('\n')).toMatch(/^LOG_LEVEL: /m);
    expect(problems.join('\n')).toMatch(/^MONGODB_URI: must start with mongodb/m);
    // A secret's value is never echoed back.
    expect(problems.join('\n')).toMatch(/^SECRETS_KEY: must be 64 hex/m);
    expect(problems.join('\n')).not.toContain('short');
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
  });

  it('checks live WeChat credentials at boot and names what is missing', () => {
    let err: unknown;
    try {
      loadConfig({ WECHAT_MODE: 'live', WECHAT_MCHID: '12' });
    } catch (e) {
      err = e;
    }
    const text = (err as ConfigError).problems.join('\n');
    expect(text).toMatch(/^WECHAT mchid: /m);
    expect(text).toMatch(/^WECHAT appid: /m);
    expect(text).toMatch(/^WECHAT notifyBaseUrl: /m);
    expect(loadConfig({ WECHAT_MODE: 'sandbox' }).wechat.mode).toBe('sandbox');
    expect(loadConfig({ WECHAT_MODE: 'off', WECHAT_MCHID: '1900000001' }).wechat.env).toEqual({ WECHAT_MODE: 'off', WECHAT_MCHID: '1900000001' });
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(8080);
  });
});
