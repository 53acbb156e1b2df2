import type { FlowKind } from '../../contracts/domain';
import type { SessionState } from '../../contracts/shopper-api';
import type { ActorRef } from '../runtime';
import type { VisitStatus } from '../visit/visit.protocol';

/** One line of goods: a SKU and how many. */
export interface Line {
  sku: string;
  qty: number;
}

/** What the session keeps of recognition's answer. */
export interface RecognitionSummary {
  status: 'settled' | 'needs_review' | 'failed';
  items: Array<Line & { confidence: number }>;
  confidence: number;
}

/** The part of a visit the session follows (from the fleet's visit actor or its stored projection). */
export interface VisitSnapshot {
  visitId: string;
  status: VisitStatus;
  recognition?: RecognitionSummary;
}

/** Why a review case is opened. */
export type ReviewCause = 'low_confidence' | 'unreadable' | 'discrepancy';

/**
 * A shopper session: one shopper's way through one flow at one cabinet, from the scan (or the open-shelf
 * checkout) to a terminal state. `status` is what the shopper sees (contracts/shopper-api SessionState);
 * `finished` says the session has nothing left to do — a semi-automatic visit shows `paid` to the shopper
 * while the session still waits to check recognition against the paid cart.
 */
export interface SessionView {
  sessionId: string;
  shopperId: string;
  cabinetId: string;
  siteId: string;
  flow: FlowKind;
  status: SessionState;
  finished: boolean;
  visitId?: string;
  /** The order this session bills: the cart (open, semi) or recognition's order (auto). */
  orderId?: string;
  totalFen?: number;
  /** The semi-automatic cart as checked out. */
  cart?: Line[];
  cartPaid: boolean;
  recognition?: RecognitionSummary;
  caseId?: string;
  /** Shown to the shopper beside the state (Chinese, as the mini-program shows it). */
  message?: string;
  startedAt: number;
  updatedAt: number;
  /** Unpaid carts are given up after this (open and semi); unset otherwise. */
  payBy?: number;
}

/** What a charge request came back with, reduced to what the session acts on. */
export type ChargeOutcome = 'accepted' | 'paid' | 'debt' | 'refused' | 'error';

/** An order's stored status as the session reads it (store/models/commerce OrderStatus). */
export type ObservedOrderStatus = 'draft' | 'held_for_review' | 'awaiting_payment' | 'paid' | 'debt' | 'waived' | 'cancelled' | 'partially_refunded' | 'refunded';

export type SessionMsg =
  /** The visit moved (progress, end, or recognition recorded). */
  | { type: 'VisitObserved'; visit: VisitSnapshot }
  /** Semi-automatic: the shopper checked out the cart for this visit (the order exists, unpaid). */
  | { type: 'CartCheckedOut'; orderId: string; lines: Line[]; totalFen: number; replyTo?: ActorRef<SessionView> }
  /** The order the session bills was created (idempotently) and priced. */
  | { type: 'OrderCreated'; orderId: string; totalFen: number; held: boolean }
  | { type: 'OrderObserved'; orderId: string; status: ObservedOrderStatus }
  | { type: 'ChargeAnswered'; orderId: string; outcome: ChargeOutcome; detail?: string }
  | { type: 'ReviewOpened'; caseId: string }
  /** Timer: poll what the session waits for (visit, order, charge) and give up unpaid carts. */
  | { type: 'Tick' }
  | { type: 'GetSession'; replyTo: ActorRef<SessionView> };

export const TERMINAL_SESSION_STATES: readonly SessionState[] = ['paid', 'charged', 'held_for_review', 'debt', 'ended_empty', 'relocked', 'failed'];
