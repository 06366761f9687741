#!/usr/bin/env node
// Drive every cardpay endpoint in plan.json with the official Node SDK
// (stripe, as examples/node_shop/node_modules has it).
//
//   node tests/providers/sdk_drive/drive_node.js URL [--run R] [--sk KEY] [--pk KEY]
//
// Prints one JSON line per step, shaped as plan.py's records: project() and
// resolve() here mirror plan.py's (keep them alike).
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const REPO = path.resolve(__dirname, '..', '..', '..');
const Stripe = createRequire(path.join(REPO, 'examples', 'node_shop', 'package.json'))('stripe');
const PLAN = JSON.parse(fs.readFileSync(path.join(__dirname, 'plan.json'), 'utf8')).steps;

const KEEP = ['id', 'object', 'status', 'amount', 'amount_capturable', 'amount_received', 'amount_captured',
  'amount_refunded', 'captured', 'paid', 'refunded', 'currency', 'customer', 'payment_method',
  'payment_intent', 'charge', 'latest_charge', 'client_secret', 'metadata', 'description',
  'capture_method', 'cancellation_reason', 'email', 'name', 'type', 'reason', 'has_more', 'url'];
const EXPANDABLE = ['customer', 'payment_method', 'payment_intent', 'charge', 'latest_charge'];

function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

function project(body) {
  if (!isObj(body)) return body;
  const out = {};
  for (const k of KEEP) if (Object.prototype.hasOwnProperty.call(body, k)) out[k] = body[k];
  for (const k of EXPANDABLE) {
    if (isObj(out[k])) { out[k] = out[k].id; out[`${k}_expanded`] = true; }
  }
  if (isObj(body.card)) {
    out.card = {};
    for (const k of ['last4', 'brand', 'exp_month', 'exp_year']) out.card[k] = body.card[k] ?? null;
  }
  if (Array.isArray(body.data)) {
    out.data = body.data.map(project);
    out.ids = body.data.filter(isObj).map((d) => d.id);
    out.last_id = out.ids.length ? out.ids[out.ids.length - 1] : null;
  }
  return out;
}

function resolve(value, run, done) {
  if (Array.isArray(value)) return value.map((v) => resolve(v, run, done));
  if (isObj(value)) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolve(v, run, done);
    return out;
  }
  if (typeof value === 'string') {
    if (value.startsWith('$')) {
      const [step, field] = value.slice(1).split(/\.(.*)/s);
      const found = ((done[step] || {}).body || {})[field];
      return typeof found === 'string' && found ? found : `missing_${step}_${field}`;
    }
    return value.split('{run}').join(run);
  }
  return value;
}

function errorRecord(err) {
  const raw = err && err.raw;
  if (!raw || typeof err.type !== 'string' || !err.type.startsWith('Stripe') || !raw.type) {
    return [err && err.statusCode ? err.statusCode : null,
      { type: 'exception', message: `${err && err.name}: ${err && err.message}`.slice(0, 500) }];
  }
  const out = {};
  for (const k of ['type', 'code', 'decline_code', 'param', 'message']) out[k] = raw[k] ?? null;
  out.payment_intent = isObj(raw.payment_intent) ? project(raw.payment_intent) : null;
  return [err.statusCode ?? null, out];
}

function parseArgs(argv) {
  const args = { run: 'drive', sk: 'sk_test_paychaos', pk: 'pk_test_paychaos' };
  const rest = [];
  for (let i = 0; i < argv.length; i += 1) {
    const m = /^--(run|sk|pk)$/.exec(argv[i]);
    if (m) { args[m[1]] = argv[i + 1]; i += 1; } else rest.push(argv[i]);
  }
  if (rest.length !== 1) throw new Error('usage: drive_node.js URL [--run R] [--sk KEY] [--pk KEY]');
  args.url = new URL(rest[0]);
  return args;
}

function client(key, url) {
  const protocol = url.protocol.replace(':', '');
  return new Stripe(key, {
    host: url.hostname, port: url.port || (protocol === 'https' ? '443' : '80'), protocol,
    maxNetworkRetries: 0, timeout: 10000, telemetry: false,
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const clients = { sk: client(args.sk, args.url), pk: client(args.pk, args.url) };
  const calls = {
    'customers.create': (s, i, p) => s.customers.create(p),
    'customers.retrieve': (s, i, p) => s.customers.retrieve(i, p),
    'payment_methods.create': (s, i, p) => s.paymentMethods.create(p),
    'payment_methods.retrieve': (s, i, p) => s.paymentMethods.retrieve(i, p),
    'payment_methods.attach': (s, i, p) => s.paymentMethods.attach(i, p),
    'payment_intents.create': (s, i, p) => s.paymentIntents.create(p),
    'payment_intents.retrieve': (s, i, p) => s.paymentIntents.retrieve(i, p),
    'payment_intents.update': (s, i, p) => s.paymentIntents.update(i, p),
    'payment_intents.confirm': (s, i, p) => s.paymentIntents.confirm(i, p),
    'payment_intents.capture': (s, i, p) => s.paymentIntents.capture(i, p),
    'payment_intents.cancel': (s, i, p) => s.paymentIntents.cancel(i, p),
    'payment_intents.list': (s, i, p) => s.paymentIntents.list(p),
    'payment_intents.search': (s, i, p) => s.paymentIntents.search(p),
    'charges.create': (s, i, p) => s.charges.create(p),
    'charges.retrieve': (s, i, p) => s.charges.retrieve(i, p),
    'charges.capture': (s, i, p) => s.charges.capture(i, p),
    'charges.list': (s, i, p) => s.charges.list(p),
    'refunds.create': (s, i, p) => s.refunds.create(p),
    'refunds.retrieve': (s, i, p) => s.refunds.retrieve(i, p),
    'refunds.list': (s, i, p) => s.refunds.list(p),
  };
  const print = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  print({ sdk: 'stripe-node', version: Stripe.PACKAGE_VERSION || require(
    createRequire(path.join(REPO, 'examples', 'node_shop', 'package.json')).resolve('stripe/package.json')).version });
  const done = {};
  for (const step of PLAN) {
    const ident = 'id' in step ? resolve(step.id, args.run, done) : null;
    const params = resolve(step.params || {}, args.run, done);
    const rec = { step: step.step, endpoint: step.endpoint };
    try {
      const answer = await calls[step.endpoint](clients[step.key], ident, params);
      // A list answer is the SDK's list object: its own JSON fields are the wire's.
      const body = JSON.parse(JSON.stringify(answer));
      Object.assign(rec, { ok: true, status: answer.lastResponse ? answer.lastResponse.statusCode : null,
        body: project(body), error: null });
    } catch (err) {
      const [status, error] = errorRecord(err);
      Object.assign(rec, { ok: false, status, body: null, error });
    }
    done[step.step] = rec;
    print(rec);
  }
}

main().catch((err) => { process.stderr.write(`${err && err.stack}\n`); process.exit(1); });
