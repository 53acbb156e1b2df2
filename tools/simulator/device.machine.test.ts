import { busy, decide, doorStatus, initialDevice, type DeviceEffect, type DeviceInput, type DeviceSettings, type DeviceState } from './device.machine';

const SETTINGS: DeviceSettings = { cameras: ['top', 'side'], hasDoor: true, frameIntervalMs: 1000, leftOpenAfterMs: 60_000, fault: 'none' };

function run(inputs: DeviceInput[], settings: DeviceSettings = SETTINGS): { state: DeviceState; effects: DeviceEffect[][] } {
  let state = initialDevice(settings);
  const effects: DeviceEffect[][] = [];
  for (const i of inputs) {
    const step = decide(state, i);
    state = step.state;
    effects.push(step.effects);
  }
  return { state, effects };
}

const unlock = (visitId: string, now = 0, openWithinMs = 30_000): DeviceInput => ({ type: 'UnlockCommanded', visitId, openWithinMs, now });
const captures = (fx: DeviceEffect[]) => fx.flatMap((e) => (e.type === 'Capture' ? [`${e.phase}:${e.camera}:${e.seq}`] : []));
const types = (fx: DeviceEffect[]) => fx.map((e) => (e.type === 'Report' ? `Report:${e.event}` : e.type));

describe('device machine', () => {
  it('unlock: acks first, then before frames, unlocks and starts the open window', () => {
    const { state, effects } = run([unlock('V1', 5, 20_000)]);
    expect(types(effects[0] ?? [])).toEqual(['ReplyUnlock', 'Capture', 'Capture', 'SetLock', 'StartTimer', 'ShopperCue']);
    expect(effects[0]?.[0]).toEqual({ type: 'ReplyUnlock', ack: { ok: true } });
    expect(captures(effects[0] ?? [])).toEqual(['before:top:0', 'before:side:0']);
    expect(effects[0]).toContainEqual({ type: 'StartTimer', timer: 'openWindow', ms: 20_000, visitId: 'V1' });
    expect(doorStatus(state)).toEqual({ door: 'closed', locked: false });
    expect(busy(state)).toBe(true);
  });

  it.each<[string, DeviceSettings, DeviceInput[], string]>([
    ['a visit in progress', SETTINGS, [unlock('V1'), unlock('V2')], 'BUSY'],
    ['the door open', SETTINGS, [unlock('V1'), { type: 'DoorPulled', now: 1 }, unlock('V2')], 'BUSY'],
    ['a door fault', { ...SETTINGS, fault: 'door' }, [unlock('V1')], 'DOOR_FAULT'],
    ['a camera fault', { ...SETTINGS, fault: 'camera' }, [unlock('V1')], 'CAMERA_FAULT'],
    ['no door (open shelf)', { ...SETTINGS, hasDoor: false, cameras: [] }, [unlock('V1')], 'DOOR_FAULT'],
  ])('refuses an unlock with %s', (_why, settings, inputs, code) => {
    const { effects } = run(inputs, settings);
    const last = effects[effects.length - 1] ?? [];
    expect(last).toHaveLength(1);
    expect(last[0]).toMatchObject({ type: 'ReplyUnlock', ack: { ok: false, error: { code } } });
  });

  it('a full visit: opened, during frames per camera, lock before the after frames, closed, upload with counts', () => {
    const { state, effects } = run([unlock('V1', 0), { type: 'DoorPulled', now: 3000 }, { type: 'FrameTimerFired', now: 4000 }, { type: 'FrameTimerFired', now: 5000 }, { type: 'DoorPushedShut', now: 5500 }]);
    expect(effects[1]).toEqual([
      { type: 'StopTimer', timer: 'openWindow' },
      { type: 'Report', event: 'door', payload: { ts: 3000, state: 'opened', visitId: 'V1' } },
      { type: 'StartTimer', timer: 'leftOpen', ms: 60_000 },
      { type: 'StartTimer', timer: 'frame', ms: 1000 },
    ]);
    expect(captures(effects[2] ?? [])).toEqual(['during:top:1', 'during:side:1']);
    expect(captures(effects[3] ?? [])).toEqual(['during:top:2', 'during:side:2']);
    const close = effects[4] ?? [];
    expect(types(close)).toEqual(['StopTimer', 'StopTimer', 'SetLock', 'Capture', 'Capture', 'Report:door', 'Upload']);
    expect(captures(close)).toEqual(['after:top:3', 'after:side:3']);
    expect(close).toContainEqual({ type: 'Report', event: 'door', payload: { ts: 5500, state: 'closed', visitId: 'V1' } });
    expect(close[close.length - 1]).toEqual({ type: 'Upload', visitId: 'V1', frames: { top: 4, side: 4 } });
    expect(doorStatus(state)).toEqual({ door: 'closed', locked: true });
  });

  it('nobody opens within the window: relocks, reports relocked and discards the before frames', () => {
    const { state, effects } = run([unlock('V1', 0, 10_000), { type: 'OpenWindowElapsed', visitId: 'V1', now: 10_000 }]);
    expect(effects[1]).toEqual([
      { type: 'SetLock', locked: true },
      { type: 'Report', event: 'door', payload: { ts: 10_000, state: 'relocked', visitId: 'V1' } },
      { type: 'Discard', visitId: 'V1' },
    ]);
    expect(busy(state)).toBe(false);
  });

  it('ignores a late window timer of an earlier visit', () => {
    const { state, effects } = run([unlock('V1', 0, 1000), { type: 'OpenWindowElapsed', visitId: 'V1', now: 1000 }, unlock('V2', 2000), { type: 'OpenWindowElapsed', visitId: 'V1', now: 2001 }]);
    expect(effects[3]).toEqual([]);
    expect(state.door).toMatchObject({ phase: 'unlocked', visit: { visitId: 'V2' } });
  });

  it('forced open: door opened without a visit and a door_forced alarm; closing reports closed without frames', () => {
    const { effects } = run([{ type: 'DoorPulled', now: 7 }, { type: 'DoorPushedShut', now: 9 }]);
    expect(effects[0]).toEqual([
      { type: 'Report', event: 'door', payload: { ts: 7, state: 'opened' } },
      { type: 'Report', event: 'alarm', payload: { ts: 7, kind: 'door_forced', detail: 'door opened while locked' } },
      { type: 'StartTimer', timer: 'leftOpen', ms: 60_000 },
    ]);
    expect(types(effects[1] ?? [])).toEqual(['StopTimer', 'StopTimer', 'Report:door']);
    expect(captures(effects[1] ?? [])).toEqual([]);
  });

  it('door left open: one alarm per opening, even if the timer fires again', () => {
    const { effects } = run([unlock('V1'), { type: 'DoorPulled', now: 0 }, { type: 'LeftOpenTimerFired', now: 60_000 }, { type: 'LeftOpenTimerFired', now: 120_000 }]);
    expect(effects[2]).toEqual([{ type: 'Report', event: 'alarm', payload: { ts: 60_000, kind: 'door_left_open', detail: 'open for 60 s in visit V1' } }]);
    expect(effects[3]).toEqual([]);
  });

  it('a cabinet without cameras runs visits without frames', () => {
    const { effects } = run([unlock('V1'), { type: 'DoorPulled', now: 1 }, { type: 'DoorPushedShut', now: 2 }], { ...SETTINGS, cameras: [] });
    expect(captures(effects.flat())).toEqual([]);
    expect(effects[2]?.[effects[2].length - 1]).toEqual({ type: 'Upload', visitId: 'V1', frames: {} });
    expect(effects[1]?.some((e) => e.type === 'StartTimer' && e.timer === 'frame')).toBe(false);
  });

  it('stray physical inputs change nothing', () => {
    for (const i of [{ type: 'DoorPushedShut', now: 1 }, { type: 'FrameTimerFired', now: 1 }, { type: 'LeftOpenTimerFired', now: 1 }] as DeviceInput[]) {
      const { state, effects } = run([i]);
      expect(effects[0]).toEqual([]);
      expect(state.door.phase).toBe('locked');
    }
  });

  it('reconfigures the frame rate and fault mode', () => {
    const { state } = run([{ type: 'Reconfigured', frameIntervalMs: 250 }, { type: 'Reconfigured', fault: 'door' }]);
    expect(state.settings).toMatchObject({ frameIntervalMs: 250, fault: 'door' });
  });
});
