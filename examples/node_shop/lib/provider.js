'use strict';
// The card provider through the official stripe SDK, with the SDK's default
// retry settings (stripe-node 23.1.0: maxNetworkRetries 2, a fixed 500 ms
// wait before each of those two retries, the same Idempotency-Key on every
// attempt, retries on connection errors, timeouts, 409 and 5xx unless the
// answer says Stripe-Should-Retry: false; never on 4xx, 429 or Retry-After).
// Only the per-attempt timeout is ours: the SDK's 80 s default would keep a
// customer waiting for minutes on a silent provider.
//
// The SDK reports only the LAST attempt. To tell "certainly not charged" from
// "may have been charged" this module watches every attempt at the HTTP
// client (the SDK's own node client, wrapped, not replaced): an attempt with
// no answer (timeout, dropped connection), a 500/504 (the provider may have
// executed) or a 409 (an earlier attempt under the key was still running)
// makes the whole charge ambiguous, whatever the last attempt said.

const Stripe = require('stripe');

const AMBIGUOUS_STATUSES = new Set([409, 500, 504]);

/** CARDPAY_BASE_URL -> the SDK's host / port / protocol settings. */
function addressOf(baseUrl) {
  const url = new URL(baseUrl);
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new Error(`CARDPAY_BASE_URL must have no path (the SDK adds /v1/...): ${baseUrl}`);
  }
  const protocol = url.protocol.replace(':', '');
  if (protocol !== 'http' && protocol !== 'https') {
    throw new Error(`CARDPAY_BASE_URL must be http:// or https://: ${baseUrl}`);
  }
  return { host: url.hostname, port: url.port || (protocol === 'https' ? '443' : '80'), protocol };
}

function headerValue(headers, name) {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers || {})) {
    if (k.toLowerCase() === wanted) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * The SDK's default node HTTP client (keep-alive agent), wrapped so that each
 * attempt carrying an Idempotency-Key is reported to `onAttempt`.
 */
function observingHttpClient(onAttempt) {
  const base = Stripe.createNodeHttpClient();
  const client = Object.create(base);
  client.makeRequest = function makeRequest(host, port, path, method, headers, body, protocol, timeout) {
    const key = headerValue(headers, 'Idempotency-Key');
    const started = performance.now();
    const pending = base.makeRequest(host, port, path, method, headers, body, protocol, timeout);
    if (key) {
      pending.then(
        (res) => onAttempt(key, { method, path, status: res.getStatusCode(), started, ended: performance.now() }),
        (err) => onAttempt(key, { method, path, status: null, error: (err && (err.code || err.message)) || 'error',
          started, ended: performance.now() }),
      );
    }
    return pending;
  };
  return client;
}

class CardProvider {
  /**
   * @param {{baseUrl: string, apiKey: string, timeoutMs: number}} options
   */
  constructor({ baseUrl, apiKey, timeoutMs }) {
    this.timeoutMs = timeoutMs;
    this._attempts = new Map(); // idempotency key -> attempts seen for the charge in flight
    this.stripe = new Stripe(apiKey, {
      ...addressOf(baseUrl),
      timeout: timeoutMs,
      // maxNetworkRetries deliberately not set: the SDK default (2) applies.
      httpClient: observingHttpClient((key, attempt) => {
        const list = this._attempts.get(key);
        if (list) list.push(attempt);
      }),
      telemetry: false,
      appInfo: { name: 'paychaos-node-shop', version: '0.1.0' },
    });
  }

  /** The SDK's effective retry settings, for the start-up log. */
  settings() {
    return {
      sdk_version: this.stripe.VERSION,
      max_network_retries: this.stripe.getMaxNetworkRetries(),
      initial_retry_delay_s: this.stripe.getInitialNetworkRetryDelay(),
      max_retry_delay_s: this.stripe.getMaxNetworkRetryDelay(),
      timeout_ms: this.stripe.getApiField('timeout'),
    };
  }

  /**
   * Create and confirm a PaymentIntent under `key`. Never throws; returns
   *   {kind: 'succeeded' | 'declined' | 'action' | 'processing', intent, error?}
   *   {kind: 'refused', status, error}       the provider refused; certainly not charged
   *   {kind: 'ambiguous', reason}            it may have charged: look it up
   * and, always, `attempts` (what each attempt got) and `ended` (monotonic ms).
   */
  async charge(order, key) {
    const attempts = [];
    this._attempts.set(key, attempts);
    let result;
    try {
      const intent = await this.stripe.paymentIntents.create({
        amount: order.amount,
        currency: order.currency,
        payment_method: order.payment_method,
        confirm: true,
        metadata: { order_id: order.order_id },
        description: `Order ${order.order_id}`,
      }, { idempotencyKey: key });
      result = fromIntent(intent);
    } catch (err) {
      result = fromError(err);
    } finally {
      this._attempts.delete(key);
    }
    // An answer to the last attempt is not the whole story: an earlier attempt
    // that got no answer (or a 500/504/409) may have committed. A succeeded or
    // declined answer is that key's one execution, so it stands; anything else
    // after an ambiguous attempt must be looked up.
    if (!['succeeded', 'declined', 'action', 'processing', 'ambiguous'].includes(result.kind)) {
      const unsure = attempts.find((a) => a.status === null || AMBIGUOUS_STATUSES.has(a.status));
      if (unsure) {
        result = { kind: 'ambiguous', reason: `an earlier attempt got ${unsure.status ?? unsure.error}; `
          + `the last got ${result.status}` };
      }
    }
    return { ...result, attempts, ended: performance.now() };
  }

  /**
   * What the provider knows about an order: search by metadata['order_id'],
   * or retrieve by id when the intent is known. Returns
   *   {answered: false, error}                     the lookup itself failed: it says nothing
   *   {answered: true, found: null}                the provider has no intent for the order
   *   {answered: true, found: {kind, intent, error?}}  the best news among its intents
   */
  async lookup(orderId, intentId) {
    try {
      if (intentId) {
        const intent = await this.stripe.paymentIntents.retrieve(intentId);
        return { answered: true, found: fromIntent(intent) };
      }
      const page = await this.stripe.paymentIntents.search({
        query: `metadata['order_id']:'${orderId}'`,
        limit: 100,
      });
      return { answered: true, found: best(page.data || []) };
    } catch (err) {
      return { answered: false, error: describe(err) };
    }
  }

  /** Cancel an intent left waiting for 3-D Secure (this checkout cannot do it). Best effort. */
  async cancel(intentId) {
    try {
      await this.stripe.paymentIntents.cancel(intentId, {}, { idempotencyKey: `cancel-${intentId}` });
      return true;
    } catch (err) {
      return false;
    }
  }
}

function fromIntent(intent) {
  switch (intent.status) {
    case 'succeeded':
      return { kind: 'succeeded', intent: intent.id };
    case 'requires_action':
      return { kind: 'action', intent: intent.id };
    case 'processing':
    case 'requires_capture':
    case 'requires_confirmation':
      return { kind: 'processing', intent: intent.id };
    case 'requires_payment_method':
      if (intent.last_payment_error) {
        return { kind: 'declined', intent: intent.id, error: intent.last_payment_error };
      }
      return { kind: 'processing', intent: intent.id };
    case 'canceled':
      return { kind: 'canceled', intent: intent.id };
    default:
      return { kind: 'processing', intent: intent.id };
  }
}

/** The best news among an order's intents: succeeded > declined/action > processing > canceled. */
function best(intents) {
  const rank = { succeeded: 0, declined: 1, action: 1, processing: 2, canceled: 3 };
  let found = null;
  for (const intent of intents) {
    if (!intent || typeof intent.id !== 'string') continue;
    const f = fromIntent(intent);
    if (found === null || rank[f.kind] < rank[found.kind]) found = f;
  }
  return found;
}

function describe(err) {
  if (!err) return 'error';
  const status = err.statusCode ? `HTTP ${err.statusCode} ` : '';
  return `${status}${err.type || err.name || 'Error'}: ${err.message || ''}`.trim();
}

function fromError(err) {
  const status = err && typeof err.statusCode === 'number' ? err.statusCode : null;
  if (err && err.type === 'StripeCardError') {
    // A 402: the card was declined; nothing charged. The intent (if any) comes with it.
    const intent = err.payment_intent && err.payment_intent.id;
    return { kind: 'declined', intent: intent || null, error: err.raw || {}, status };
  }
  if (status === null || AMBIGUOUS_STATUSES.has(status)) {
    // No answer (StripeConnectionError: timeout, reset, dropped, a body cut
    // short), or an answer that says the provider may have executed.
    return { kind: 'ambiguous', reason: describe(err), status };
  }
  return { kind: 'refused', status, error: err.raw || {}, reason: describe(err) };
}

module.exports = { CardProvider, addressOf, fromIntent, fromError, best };
