'use strict';
// The checkout: one order, at most one charge, always a truthful answer.
//
//   POST /checkout -> new order (processing) -> charge under key checkout-<order_id>
//     succeeded | declined                       the provider said so
//     refused (429, 4xx, 503 on every attempt)    failed: certainly not charged
//     ambiguous (no answer, 500/504/409)          look it up: succeeded | declined | pending
//   pending -> the reconciler (and every GET) looks again until the provider
//              shows the charge, or its search has answered "nothing" for
//              RECONCILE_WINDOW after the last attempt -> failed
//
// Each order's charge runs in a promise owned by the shop, not by the HTTP
// request: a customer who hangs up does not abandon a charge half-way, and a
// repeat of the order awaits the same promise (and never charges again).
// State lives in memory: the process lives for one run.

const userErrors = require('./user_errors');

const FINAL = new Set(['succeeded', 'declined', 'failed']);

class Shop {
  /**
   * @param {import('./provider').CardProvider} provider
   * @param {{reconcileWindowMs: number, reconcileIntervalMs: number, reconcileMaxIntervalMs: number,
   *          lookupGapMs: number, contact: string, log: Function}} options
   */
  constructor(provider, { reconcileWindowMs, reconcileIntervalMs, reconcileMaxIntervalMs, lookupGapMs, contact, log }) {
    this.provider = provider;
    this.reconcileWindowMs = reconcileWindowMs;
    this.reconcileIntervalMs = reconcileIntervalMs;
    this.reconcileMaxIntervalMs = reconcileMaxIntervalMs;
    this.lookupGapMs = lookupGapMs;
    this.contact = contact;
    this.log = log;
    this.orders = new Map();
  }

  /** Start (or join) the order's payment; returns the order record. */
  checkout(input) {
    let order = this.orders.get(input.order_id);
    if (order !== undefined) {
      if (order.amount !== input.amount || order.currency !== input.currency) {
        this.log('decision', { decision: 'repeat_with_other_parameters', order_id: order.order_id,
          stored: `${order.amount} ${order.currency}`, asked: `${input.amount} ${input.currency}` });
      }
      this.log('decision', { decision: 'repeat', order_id: order.order_id, status: order.status });
      return order;
    }
    order = {
      order_id: input.order_id,
      amount: input.amount,
      currency: input.currency,
      payment_method: input.payment_method,
      key: `checkout-${input.order_id}`,
      status: 'processing', // internal; answered as pending
      payment_intent: null,
      error: null,
      charging: null, // the charge promise while it runs
      lookingUp: null, // a lookup promise while one runs
      lastAttemptEnd: null, // monotonic ms when the charge call ended
      lookups: 0, // lookups since the order went pending
      lastLookupEnd: null, // monotonic ms
      nextLookupAt: 0, // monotonic ms: when the reconciler looks again
    };
    this.orders.set(order.order_id, order);
    order.charging = this._charge(order)
      .catch((err) => {
        // A bug of ours, not an answer from the provider: the charge may have gone through.
        this.log('decision', { decision: 'charge_crashed', order_id: order.order_id, error: String(err && err.stack || err) });
        if (!FINAL.has(order.status)) this._pending(order, 'charge crashed; the reconciler will look it up');
      })
      .finally(() => { order.charging = null; });
    return order;
  }

  get(orderId) {
    return this.orders.get(orderId);
  }

  /** Orders due for a reconciler lookup: outcome unknown, no charge or lookup working on them, their time come. */
  due(now = performance.now()) {
    return [...this.orders.values()].filter((o) => !FINAL.has(o.status) && o.charging === null
      && o.lookingUp === null && now >= o.nextLookupAt);
  }

  /**
   * A customer (or the harness) asks about an unresolved order: look again,
   * unless a lookup is running (join it) or one ended less than lookupGapMs ago.
   */
  recheck(order) {
    if (FINAL.has(order.status)) return Promise.resolve(order);
    if (order.charging !== null) return order.charging.then(() => order);
    if (order.lookingUp === null && order.lastLookupEnd !== null
        && performance.now() - order.lastLookupEnd < this.lookupGapMs) {
      return Promise.resolve(order);
    }
    return this.reconcile(order);
  }

  /** One lookup of an unresolved order (coalesced: one at a time per order). */
  reconcile(order) {
    if (FINAL.has(order.status) || order.charging !== null) return Promise.resolve(order);
    if (order.lookingUp === null) {
      order.lookingUp = this._reconcile(order)
        .catch((err) => { this.log('decision', { decision: 'reconcile_error', order_id: order.order_id,
          error: String(err && err.stack || err) }); })
        .finally(() => {
          order.lookingUp = null;
          order.lastLookupEnd = performance.now();
          // Not settled: the first lookup came 1 s after the pending answer; the next come 2 s, then
          // every 4 s after the previous one ended (a struggling provider is not hammered).
          order.lookups += 1;
          order.nextLookupAt = order.lastLookupEnd
            + Math.min(this.reconcileIntervalMs * 2 ** order.lookups, this.reconcileMaxIntervalMs);
        });
    }
    return order.lookingUp.then(() => order);
  }

  /** The answer body for an order. */
  view(order) {
    const out = {
      order_id: order.order_id,
      status: FINAL.has(order.status) ? order.status : 'pending',
      amount: order.amount,
      currency: order.currency,
    };
    if (order.payment_intent) out.payment_intent = order.payment_intent;
    if (order.error) out.error = { ...order.error, contact: this.contact };
    if (out.status === 'pending') {
      out.detail = 'We are confirming this payment with our card processor. You will not be charged twice; '
        + 'check again shortly.';
    }
    return out;
  }

  // ---- one payment -----------------------------------------------------------------------------

  async _charge(order) {
    let result;
    try {
      result = await this.provider.charge(order, order.key);
    } catch (err) { // charge() never throws; if it did, the outcome is unknown
      result = { kind: 'ambiguous', reason: String(err), attempts: [], ended: performance.now() };
    }
    order.lastAttemptEnd = result.ended;
    this.log('provider_call', { endpoint: 'payment_intents.create', order_id: order.order_id, key: order.key,
      outcome: result.kind, reason: result.reason,
      attempts: result.attempts.map((a) => a.status ?? a.error) });
    switch (result.kind) {
      case 'succeeded':
      case 'declined':
      case 'action':
      case 'processing':
      case 'canceled':
        return this._apply(order, result, 'charge');
      case 'refused':
        return this._finish(order, 'failed', { reason: `provider_refused_${result.status}`,
          error: refusal(result) });
      default: {
        // The provider may have committed under our key: ask before answering.
        const looked = await this.provider.lookup(order.order_id, null);
        this._logLookup(order, looked);
        if (looked.answered && looked.found && looked.found.kind !== 'processing') {
          return this._apply(order, looked.found, 'lookup');
        }
        return this._pending(order, `ambiguous (${result.reason}); lookup found nothing final`);
      }
    }
  }

  async _reconcile(order) {
    const looked = await this.provider.lookup(order.order_id, order.payment_intent);
    this._logLookup(order, looked);
    if (FINAL.has(order.status) || order.charging !== null) return;
    if (looked.answered && looked.found && looked.found.kind !== 'processing') {
      this._apply(order, looked.found, 'reconciler');
      return;
    }
    // Only a lookup that ANSWERED "nothing" closes the window: a failed lookup
    // tells us nothing, and failing a charge that went through is the one thing
    // this service must not do.
    const nothingThere = looked.answered && looked.found === null;
    if (nothingThere && order.lastAttemptEnd !== null
        && performance.now() - order.lastAttemptEnd >= this.reconcileWindowMs) {
      this._finish(order, 'failed', { reason: 'window_closed', error: userErrors.paymentUnconfirmed() });
    }
  }

  _apply(order, found, via) {
    switch (found.kind) {
      case 'succeeded':
        return this._finish(order, 'succeeded', { reason: `${via}_succeeded`, intent: found.intent });
      case 'declined':
        return this._finish(order, 'declined', { reason: `${via}_declined`, intent: found.intent,
          error: userErrors.fromCardError(found.error), provider: found.error });
      case 'action':
        // 3-D Secure is not supported here: nothing was charged; cancel the
        // intent so it cannot be completed later, and say why.
        this.provider.cancel(found.intent).then((ok) => this.log('provider_call',
          { endpoint: 'payment_intents.cancel', order_id: order.order_id, payment_intent: found.intent, ok }));
        return this._finish(order, 'declined', { reason: `${via}_requires_action`, intent: found.intent,
          error: userErrors.authenticationRequired() });
      case 'canceled':
        return this._finish(order, 'failed', { reason: `${via}_canceled`, intent: found.intent,
          error: userErrors.paymentUnconfirmed() });
      default: // processing: the provider has it but has not decided
        order.payment_intent = found.intent || order.payment_intent;
        return this._pending(order, `${via}: intent ${found.intent} still processing`);
    }
  }

  _pending(order, reason) {
    if (order.status !== 'pending') {
      order.lookups = 0;
      order.nextLookupAt = performance.now() + this.reconcileIntervalMs;
    }
    order.status = 'pending';
    this.log('decision', { decision: 'pending', order_id: order.order_id, reason });
    return order;
  }

  _finish(order, status, { reason, intent = null, error = null, provider = null }) {
    if (FINAL.has(order.status)) {
      this.log('decision', { decision: 'already_final', order_id: order.order_id, status: order.status, reason });
      return order;
    }
    order.status = status;
    if (intent) order.payment_intent = intent;
    order.error = error;
    this.log('decision', { decision: status, order_id: order.order_id, reason, payment_intent: order.payment_intent,
      error_code: error && error.code, provider_error: provider && (provider.decline_code || provider.code) });
    return order;
  }

  _logLookup(order, looked) {
    this.log('provider_call', { endpoint: 'payment_intents.lookup', order_id: order.order_id,
      outcome: looked.answered ? (looked.found ? looked.found.kind : 'nothing_found') : looked.error,
      payment_intent: looked.found && looked.found.intent });
  }
}

function refusal(result) {
  if (result.status === 429) return userErrors.providerBusy();
  if (result.status >= 500) return userErrors.providerUnavailable();
  return userErrors.fromProviderRefusal(result.status, result.error);
}

module.exports = { Shop, FINAL };
