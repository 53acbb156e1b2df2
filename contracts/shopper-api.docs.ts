import type { CabinetUnavailableReason, ShopperErrorCode, ShopperRouteName } from './shopper-api';

/**
 * The prose of the shopper API's OpenAPI document, beside the route table it describes: per route a summary,
 * a description, its tag, the error codes it can answer (beyond those every route shares) and whether a client
 * may simply send it again. Keyed by route name, so a route without documentation does not compile.
 */
export interface ShopperRouteDoc {
  summary: string;
  description: string;
  tag: ShopperTag;
  /** Codes this route itself raises; BAD_REQUEST (input), UNAUTHENTICATED, RATE_LIMITED and INTERNAL are added for every route that can answer them. */
  errors: readonly ShopperErrorCode[];
  /** True when sending the same request again cannot do anything twice (no second unlock, order or charge). */
  retrySafe: boolean;
  /** What a repeat does, in a sentence. */
  retry: string;
  /** A success answer, checked against the response schema by the document's test. */
  example: unknown;
}

export const SHOPPER_TAGS = {
  'sign-in': 'wx.login code and phone authorisation; the bearer token for every other call.',
  shopper: 'The signed-in shopper: profile, debt summary, papay contract.',
  cabinets: 'QR resolution and catalogue.',
  visits: 'Door cabinets (semi-automatic and fully automatic): unlock and follow the visit.',
  checkout: 'Carts (open shelf and semi-automatic) paid with WeChat Pay.',
  debts: 'Unpaid orders that block every new visit until paid.',
  papay: 'Password-free deduction (委托代扣) contracts, needed by fully automatic cabinets.',
  orders: 'Itemised receipts and appeals.',
} as const;
export type ShopperTag = keyof typeof SHOPPER_TAGS;

const T = 1764547200000;
const PAY = { appId: 'wx0123456789abcdef', timeStamp: '1764547200', nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', package: 'prepay_id=wx201410272009395522657a690389285100', signType: 'RSA', paySign: 'oR9d8PuhnIc+YZ8cBHFCwfgpaK9gd7vaRvkYD7rthRAZ/X+QBhcCYL21N7cHCTUxbQ+EAt6Uy+lwSN22f5YZvI45MLko8Pfso0jm46v5hqcVwrk6uddkGuT+Cdvu4WBqDzaDjnNa5UK3GfE1Wfl2gHxIIY5lLdUgWFts17D4WuolLLkiFZV+JSHMvH7eaLdT9N5GBovBwu5yYKUR7skR8Fu+LozcSqQixnlEZUfyE55feLOQTUYzLmR9pNtPbPsu6WVhbNHMS3Ss2+AehHvz+n64GDmXxbX++IOBvm2olHu3PsOUGRwhudhVf7UcGcunXt8cqNjKNqZLhLw4jq/xDg==' };
const ORDER = {
  orderId: 'O1764547200000-SH-SEMI-01-1',
  cabinetId: 'SH-SEMI-01',
  flow: 'semi',
  status: 'paid',
  lines: [{ sku: 'COLA-ORIG', name: '可口经典', qty: 1, unitPriceFen: 350, amountFen: 350 }],
  totalFen: 350,
  paidFen: 350,
  refundedFen: 0,
  createdAt: T,
  source: 'cart',
  evidence: { frames: 12, confidence: 0.97, reviewed: false },
};
const VISIT = { sessionId: 'S9f2c1e', visitId: 'V1764547200000-SH-AUTO-01', cabinetId: 'SH-AUTO-01', flow: 'auto', state: 'unlocking' };

export const SHOPPER_ROUTE_DOCS: Readonly<Record<ShopperRouteName, ShopperRouteDoc>> = {
  login: {
    summary: 'Sign in with a wx.login code',
    description: 'Exchanges the code from `wx.login` for a bearer token (the service keeps session_key). The token expires at `expiresAt` (epoch ms); sign in again after that or on any 401.',
    tag: 'sign-in',
    errors: ['UNAUTHENTICATED', 'UNAVAILABLE'],
    retrySafe: false,
    retry: 'A code works once: after a failure call wx.login again and send the new code.',
    example: { token: 'v1.c2hvcHBlcg.eyJzdWIiOiJTaDEifQ.sig', expiresAt: T + 7 * 86_400_000, shopper: { shopperId: 'S7f3a9b2c', hasPhone: false } },
  },
  phone: {
    summary: 'Authorise the phone number',
    description: 'Sends the code from `<button open-type="getPhoneNumber">`; the number comes back masked. Needed before any visit, checkout or payment (PHONE_REQUIRED otherwise).',
    tag: 'sign-in',
    errors: ['UNAVAILABLE'],
    retrySafe: false,
    retry: 'A code works once: after a failure the shopper taps the button again for a new one.',
    example: { shopper: { shopperId: 'S7f3a9b2c', phone: '138****5678', hasPhone: true } },
  },
  me: {
    summary: 'The signed-in shopper',
    description: 'Profile, open debt (count and total in fen) and the papay contract state; the home page decides from it where to send the shopper.',
    tag: 'shopper',
    errors: [],
    retrySafe: true,
    retry: 'A read.',
    example: { shopper: { shopperId: 'S7f3a9b2c', phone: '138****5678', hasPhone: true }, debt: { count: 1, totalFen: 650 }, contract: 'active' },
  },
  debts: {
    summary: 'List the shopper’s debts',
    description: 'Every debt with its lifecycle status; `totalFen` sums the open and reminded ones, which block every new visit at every cabinet.',
    tag: 'debts',
    errors: [],
    retrySafe: true,
    retry: 'A read.',
    example: { debts: [{ debtId: 'D1', orderId: 'O1764547200000-SH-AUTO-01-1', amountFen: 650, reason: 'NOTENOUGH', status: 'open', createdAt: T }], totalFen: 650 },
  },
  payDebts: {
    summary: 'Pay the open debts',
    description: '`via: "papay"` deducts them now (the answer waits up to ~10 s for the result); `via: "jsapi"` returns `requestPayment` parameters for `wx.requestPayment`, after which the debt is paid when WeChat notifies the service (poll GET /debts). `refused` carries WeChat’s reason (e.g. NOTENOUGH: balance too low).',
    tag: 'debts',
    errors: ['PHONE_REQUIRED', 'CONFLICT', 'UNAVAILABLE'],
    retrySafe: true,
    retry: 'Each debt is paid at most once: a repeat while a deduction is in progress answers `refused`, after it settled `cleared`.',
    example: { result: 'pay', orderId: 'O1764547200000-SH-AUTO-01-1', requestPayment: PAY },
  },
  papaySign: {
    summary: 'Start signing password-free payment',
    description: 'Returns what `wx.navigateToMiniProgram` needs to open WeChat’s signing mini-program. Its own result is only a hint: poll GET /papay/contract for the service’s word.',
    tag: 'papay',
    errors: ['PHONE_REQUIRED', 'CONFLICT', 'UNAVAILABLE'],
    retrySafe: true,
    retry: 'Nothing is charged or signed by this call; a repeat returns fresh signing parameters.',
    example: { appId: 'wxbd687630cd02ce1d', path: 'pages/index/index', extraData: { appid: 'wx0123456789abcdef', contract_code: 'C9f2c1e', plan_id: '12535' }, contractCode: 'C9f2c1e' },
  },
  papayContract: {
    summary: 'The papay contract state',
    description: 'none, signing, active or terminated, as the service knows it from WeChat’s notifications.',
    tag: 'papay',
    errors: [],
    retrySafe: true,
    retry: 'A read; poll it after the signing mini-program returns.',
    example: { contract: 'active' },
  },
  cabinet: {
    summary: 'Resolve a scanned cabinet',
    description: 'What the QR code named (`/c/<cabinetId>?flow=…`): the service’s record of the cabinet wins over the printed flow (`flowCorrected`). `available: false` comes with `unavailableReason`, the same word CABINET_UNAVAILABLE carries.',
    tag: 'cabinets',
    errors: ['NOT_FOUND'],
    retrySafe: true,
    retry: 'A read.',
    example: { cabinetId: 'SH-AUTO-01', name: '上海 12F 茶水间', kind: 'auto', flowCorrected: false, online: true, available: false, unavailableReason: 'busy' },
  },
  catalogue: {
    summary: 'A cabinet’s catalogue and stock',
    description: 'Products by lane with integer-fen prices and the stock the service counts.',
    tag: 'cabinets',
    errors: ['NOT_FOUND'],
    retrySafe: true,
    retry: 'A read.',
    example: { cabinetId: 'SH-OPEN-01', items: [{ sku: 'COLA-ORIG', name: '可口经典', priceFen: 350, laneId: 'A1', stock: 10 }] },
  },
  startVisit: {
    summary: 'Unlock a door cabinet (start a visit)',
    description: 'Checked in this order: phone, the cabinet (NOT_FOUND; an open shelf is BAD_REQUEST; CABINET_UNAVAILABLE with `details.reason`), debt (DEBT_OUTSTANDING), for a fully automatic cabinet the papay contract (CONTRACT_REQUIRED); then the door is unlocked and acknowledged by the cabinet. Follow the visit with GET /visits/{sessionId}.',
    tag: 'visits',
    errors: ['PHONE_REQUIRED', 'NOT_FOUND', 'CABINET_UNAVAILABLE', 'DEBT_OUTSTANDING', 'CONTRACT_REQUIRED', 'UNAVAILABLE'],
    retrySafe: true,
    retry: 'While this shopper’s visit at this cabinet is running a repeat returns that visit: the door is never unlocked twice.',
    example: VISIT,
  },
  visit: {
    summary: 'Follow a visit',
    description: 'Poll it (about every second, backing off to 5 s): unlocking → door_open → awaiting_frames → recognising → charging → charged, or paid / held_for_review / debt / ended_empty / relocked / failed, which are final. `orderId` and `totalFen` appear once there is an order.',
    tag: 'visits',
    errors: ['NOT_FOUND'],
    retrySafe: true,
    retry: 'A read; a failed poll is simply repeated.',
    example: { ...VISIT, state: 'charged', orderId: 'OV1764547200000-SH-AUTO-01', totalFen: 350 },
  },
  checkout: {
    summary: 'Pay a cart with WeChat Pay',
    description: 'Open shelf: the cart alone; semi-automatic: the cart of a visit (`sessionId`). Returns `requestPayment` for `wx.requestPayment`; the order is paid when WeChat notifies the service (poll GET /orders/{orderId}). `signContract: true` without a contract pays and signs papay at once (`payAndSign`).',
    tag: 'checkout',
    errors: ['PHONE_REQUIRED', 'NOT_FOUND', 'DEBT_OUTSTANDING', 'OUT_OF_STOCK', 'CONFLICT', 'UNAVAILABLE'],
    retrySafe: true,
    retry: 'Nothing is charged until the shopper pays. A visit’s cart sent again is the same order and prepay (another cart for it is CONFLICT); an open-shelf cart sent again is a new order, and the unpaid one lapses.',
    example: { orderId: 'O1764547200000-SH-OPEN-01-1', totalFen: 350, requestPayment: PAY, payAndSign: false },
  },
  orders: {
    summary: 'The shopper’s orders',
    description: 'The latest 50 as itemised receipts, newest first.',
    tag: 'orders',
    errors: [],
    retrySafe: true,
    retry: 'A read.',
    example: { orders: [ORDER] },
  },
  order: {
    summary: 'One order as a receipt',
    description: 'Lines, totals, how it was built (cart, recognition or an operator’s review), the evidence summary and any appeal.',
    tag: 'orders',
    errors: ['NOT_FOUND'],
    retrySafe: true,
    retry: 'A read.',
    example: ORDER,
  },
  appeal: {
    summary: 'Appeal an order',
    description: 'Opens a review case for an operator (paid, debt or partially refunded orders only); the decision refunds or waives.',
    tag: 'orders',
    errors: ['NOT_FOUND', 'CONFLICT'],
    retrySafe: true,
    retry: 'One appeal per order: a repeat answers the appeal already open.',
    example: { orderId: ORDER.orderId, appeal: { status: 'open', reason: '我只拿了一瓶' } },
  },
};

/** `error.details` examples, by code. */
export const SHOPPER_ERROR_DETAIL_EXAMPLES: Readonly<Partial<Record<ShopperErrorCode, unknown>>> = {
  CABINET_UNAVAILABLE: { reason: 'offline' satisfies CabinetUnavailableReason },
  DEBT_OUTSTANDING: { debts: [{ debtId: 'D1', amountFen: 650 }] },
  OUT_OF_STOCK: { sku: 'COLA-ORIG', stock: 0 },
  RATE_LIMITED: { retryAfterMs: 6000 },
};

/** The purchase flows, as the calls a client makes (the document's description). */
export const SHOPPER_FLOWS = `## Flows

Every call but sign-in sends \`Authorization: Bearer <token>\`. Money is integer fen; times are epoch milliseconds (UTC).
Errors are \`{ "error": { "code", "message", "details"? } }\`; the code is stable (docs/errors.md), the message is for logs.

**Sign-in**: \`POST /auth/login\` { code from wx.login } → token; \`POST /auth/phone\` { code from the phone button }.
Then \`GET /me\`: with \`debt.count > 0\` go to the debts first.

**Scan**: the QR code is \`https://<host>/c/<cabinetId>?flow=open|semi|auto\` (opened in WeChat it starts the
mini-program; elsewhere the link shows a page). \`GET /cabinets/{cabinetId}?flow=…\` resolves it; its \`kind\` decides the flow.

**Open shelf** (\`kind: open\`): \`GET /cabinets/{id}/catalogue\` → \`POST /checkout\` { cabinetId, lines } →
\`wx.requestPayment(requestPayment)\` → poll \`GET /orders/{orderId}\` until \`paid\`.

**Semi-automatic** (\`kind: semi\`): \`POST /visits\` { cabinetId } (debt first: DEBT_OUTSTANDING) → poll
\`GET /visits/{sessionId}\` while \`unlocking\` / \`door_open\` → \`POST /checkout\` { cabinetId, sessionId, lines,
signContract: true } (pay-and-sign when there is no papay contract) → \`wx.requestPayment\` → poll the visit until \`paid\`.
Recognition checks the recording against the paid cart; a difference goes to an operator, who may raise a debt.

**Fully automatic** (\`kind: auto\`): papay first (\`GET /me\` → \`contract\`; else \`POST /papay/sign\` →
navigateToMiniProgram → poll \`GET /papay/contract\` until \`active\`) → \`POST /visits\` → poll \`GET /visits/{sessionId}\`:
door_open → awaiting_frames → recognising → charging → \`charged\` (or \`held_for_review\`, \`debt\`, \`ended_empty\`, \`relocked\`).

**Debts**: \`GET /debts\` → \`POST /debts/pay\` { via: papay | jsapi } → for jsapi \`wx.requestPayment\`, then \`GET /debts\`.

**Retrying**: each operation says whether it is safe to send again (\`x-retry-safe\`). 429 carries \`Retry-After\`
(seconds) and \`details.retryAfterMs\`; each shopper may make 60 calls per 10 seconds.
`;
