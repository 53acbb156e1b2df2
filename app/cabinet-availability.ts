import { assertNever } from '../common/assert-never';
import type { CabinetView, UnlockRefusal } from '../actors/cabinet/cabinet.protocol';
import type { CabinetUnavailableReason } from '../contracts/shopper-api';

/**
 * The one translation from the cabinet actor's words to the shopper API's `CabinetUnavailableReason`, so the
 * cabinet endpoint and a refused `POST /visits` spell a reason the same way (and the mini-program maps one set).
 */
export function reasonForRefusal(r: UnlockRefusal): CabinetUnavailableReason {
  switch (r) {
    case 'OFFLINE':
      return 'offline';
    case 'BUSY':
    case 'DOOR_TAKEN':
      return 'busy';
    case 'RESTOCKING':
      return 'restocking';
    case 'FAULT':
      return 'fault';
    case 'DISABLED':
      return 'disabled';
    case 'DEVICE_REFUSED':
      return 'device_refused';
    case 'DEVICE_TIMEOUT':
      return 'device_timeout';
    default:
      return assertNever(r, 'unlock refusal');
  }
}

/** Why a cabinet in this live state cannot take a visit now; undefined when it can. */
export function reasonForState(state: CabinetView['state']): CabinetUnavailableReason | undefined {
  switch (state) {
    case 'idle':
      return undefined;
    case 'offline':
      return 'offline';
    case 'unlocking':
    case 'open':
    case 'awaiting_upload':
      return 'busy';
    case 'restocking':
      return 'restocking';
    case 'fault':
      return 'fault';
    default:
      return assertNever(state, 'cabinet state');
  }
}
