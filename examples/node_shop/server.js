'use strict';
// node_shop: a small checkout on node:http and the official stripe SDK.
//
//   node examples/node_shop/server.js --port 8000 [--host 127.0.0.1]
//
//   POST /checkout            {order_id, amount, currency, payment_method}
//   GET  /checkout/{order_id} the order's state; a pending one is re-checked first
//   GET  /healthz             200 {"ok": true}
//
// Environment: CARDPAY_BASE_URL, CARDPAY_API_KEY (required); NODE_SHOP_PORT
// (if no --port); tunables in README.md.

const http = require('node:http');
const userErrors = require('./lib/user_errors');

const MAX_BODY_BYTES = 64 * 1024;
const ORDER_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

function intEnv(name, fallback, min = 0) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (flag !== '--port' && flag !== '--host') throw new Error(`unknown argument ${arg}; use --port N [--host H]`);
    const value = inline !== undefined ? inline : argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    out[flag.slice(2)] = value;
  }
  return out;
}

function config() {
  const args = parseArgs(process.argv.slice(2));
  const port = Number(args.port ?? process.env.NODE_SHOP_PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port ${args.port}`);
  const missing = ['CARDPAY_BASE_URL', 'CARDPAY_API_KEY'].filter((v) => !process.env[v]);
  if (missing.length) throw new Error(`set ${missing.join(' and ')} (the card provider's base URL and API key)`);
  return {
    host: args.host || process.env.NODE_SHOP_HOST || '127.0.0.1',
    port,
    baseUrl: process.env.CARDPAY_BASE_URL,
    apiKey: process.env.CARDPAY_API_KEY,
    // Per attempt: the SDK's `timeout`, the socket's inactivity once connected (its default is 80 s).
    timeoutMs: intEnv('NODE_SHOP_TIMEOUT_MS', 1000, 1),
    // A POST /checkout is answered by then at the latest (pending if undecided).
    responseDeadlineMs: intEnv('NODE_SHOP_RESPONSE_DEADLINE_MS', 5000, 1),
    // How long a GET waits for the re-check of a pending order before answering.
    lookupWaitMs: intEnv('NODE_SHOP_LOOKUP_WAIT_MS', 1500, 0),
    // The reconciler looks a pending order up 1 s after the answer, then backs off to every 4 s.
    reconcileIntervalMs: intEnv('NODE_SHOP_RECONCILE_INTERVAL_MS', 1000, 10),
    reconcileMaxIntervalMs: intEnv('NODE_SHOP_RECONCILE_MAX_INTERVAL_MS', 4000, 10),
    // A GET re-checks a pending order unless the last lookup ended less than this ago.
    lookupGapMs: intEnv('NODE_SHOP_LOOKUP_GAP_MS', 500, 0),
    reconcileWindowMs: intEnv('NODE_SHOP_RECONCILE_WINDOW_MS', 8000, 0),
    contact: process.env.NODE_SHOP_CONTACT
      || 'support@node-shop.example, or +1 555 0100; quote your order id',
  };
}

function log(event, fields) {
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), event, ...fields })}\n`);
}

function send(res, status, body) {
  if (res.headersSent || res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch (err) {
        reject(new Error('the body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

/** The checkout body, checked; returns {input} or {problem: [message, action]}. */
function validate(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { problem: ['The request body must be a JSON object.', 'Send {order_id, amount, currency, payment_method}.'] };
  }
  const { order_id: orderId, amount, currency, payment_method: pm } = body;
  if (typeof orderId !== 'string' || !ORDER_ID.test(orderId)) {
    return { problem: ['order_id must be 1-100 letters, digits or _ . : -', 'Correct the order id and pay again.'] };
  }
  if (!Number.isInteger(amount) || amount <= 0) {
    return { problem: ['amount must be a positive integer in minor units (cents).', 'Correct the amount and pay again.'] };
  }
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    return { problem: ['currency must be a three-letter ISO code such as usd.', 'Correct the currency and pay again.'] };
  }
  if (typeof pm !== 'string' || pm.length === 0 || pm.length > 255) {
    return { problem: ['payment_method must be a payment method id.', 'Choose a card and pay again.'] };
  }
  return { input: { order_id: orderId, amount, currency: currency.toLowerCase(), payment_method: pm } };
}

const HTTP_STATUS = { succeeded: 200, declined: 402, failed: 502, pending: 202 };

function within(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve) => { timer = setTimeout(resolve, ms); }),
  ]).finally(() => clearTimeout(timer));
}

function main() {
  const cfg = config();
  const { CardProvider } = require('./lib/provider'); // the stripe SDK: installed by npm ci
  const { Shop, FINAL } = require('./lib/shop');
  const provider = new CardProvider(cfg);
  const shop = new Shop(provider, {
    reconcileWindowMs: cfg.reconcileWindowMs,
    reconcileIntervalMs: cfg.reconcileIntervalMs,
    reconcileMaxIntervalMs: cfg.reconcileMaxIntervalMs,
    lookupGapMs: cfg.lookupGapMs,
    contact: cfg.contact,
    log,
  });

  async function checkout(req, res) {
    let body;
    try {
      body = await readJson(req);
    } catch (err) {
      send(res, 400, { status: 'failed', error: { ...userErrors.invalidRequest(err.message), contact: cfg.contact } });
      return;
    }
    const { input, problem } = validate(body);
    if (problem) {
      send(res, 400, { status: 'failed', error: { ...userErrors.invalidRequest(...problem), contact: cfg.contact } });
      return;
    }
    const order = shop.checkout(input);
    if (order.charging !== null) await within(order.charging, cfg.responseDeadlineMs);
    const view = shop.view(order);
    send(res, HTTP_STATUS[view.status], view);
  }

  async function status(res, orderId) {
    const order = shop.get(orderId);
    if (order === undefined) {
      send(res, 404, { order_id: orderId, error: { type: 'not_found', code: 'order_not_found',
        message: 'No checkout is known for this order id.', action: 'Check the order id.', contact: cfg.contact } });
      return;
    }
    if (!FINAL.has(order.status)) {
      // Re-check with the provider before answering (bounded: a slow provider
      // gets the current state, and the lookup carries on in the background).
      await within(shop.recheck(order), cfg.lookupWaitMs);
    }
    send(res, 200, shop.view(order));
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const handle = async () => {
      if (url.pathname === '/healthz' && req.method === 'GET') {
        send(res, 200, { ok: true });
      } else if (url.pathname === '/checkout' && req.method === 'POST') {
        await checkout(req, res);
      } else if (url.pathname.startsWith('/checkout/') && req.method === 'GET') {
        await status(res, decodeURIComponent(url.pathname.slice('/checkout/'.length)));
      } else {
        send(res, 404, { error: { type: 'not_found', code: 'route_not_found', message: `No route ${req.method} ${url.pathname}.`,
          action: 'Use POST /checkout or GET /checkout/{order_id}.', contact: cfg.contact } });
      }
    };
    handle().catch((err) => {
      log('error', { path: url.pathname, error: String(err && err.stack || err) });
      send(res, 500, { status: 'pending', error: { type: 'internal_error', code: 'internal_error',
        message: 'Something went wrong on our side; your payment state is unchanged.',
        action: 'Check the order again in a minute.', contact: cfg.contact } });
    });
  });
  server.keepAliveTimeout = 30000;

  // The background reconciler: a tick every 250 ms starts a lookup of each
  // pending order that is due (see Shop.due); lookups of one order never overlap.
  const reconciler = setInterval(() => {
    for (const order of shop.due()) shop.reconcile(order);
  }, 250);

  const stop = (signal) => {
    log('stop', { signal, orders: shop.orders.size });
    clearInterval(reconciler);
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  // The orders live in this process: a stray rejection is logged, never a crash that loses them.
  process.on('unhandledRejection', (err) => log('error', { unhandled: String(err && err.stack || err) }));
  process.on('SIGINT', stop);

  server.listen(cfg.port, cfg.host, () => {
    const { port } = server.address();
    log('ready', { url: `http://${cfg.host}:${port}`, provider: cfg.baseUrl, ...provider.settings(),
      response_deadline_ms: cfg.responseDeadlineMs, reconcile_interval_ms: cfg.reconcileIntervalMs,
      reconcile_max_interval_ms: cfg.reconcileMaxIntervalMs, reconcile_window_ms: cfg.reconcileWindowMs });
  });
}

try {
  main();
} catch (err) {
  const hint = err.code === 'MODULE_NOT_FOUND'
    ? '\nnode_shop: install its dependencies first: npm ci --prefix examples/node_shop --no-audit --no-fund' : '';
  process.stderr.write(`node_shop: ${err.message}${hint}\n`);
  process.exit(2);
}
