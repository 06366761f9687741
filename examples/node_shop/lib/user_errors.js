'use strict';
// What the customer is told: an error type, a code, a plain message, a
// concrete next step and where to get help. Never a bare "payment failed,
// please retry". Lost, stolen and fraudulent cards are shown as a generic
// decline (telling a fraudster the card was reported only helps the
// fraudster); the provider's real reason stays in this service's log.

const USE_ANOTHER_CARD = 'Use another card or payment method.';
const ASK_BANK = 'Contact your bank to find out why, or use another card or payment method.';
const TRY_LATER = 'Try again in a few minutes, or use another card or payment method.';

function userError(type, code, message, action) {
  return { type, code, message, action };
}

const GENERIC_DECLINE = userError('card_declined', 'generic_decline', 'Your card was declined.', ASK_BANK);

// Decline reasons never revealed to the person holding the card.
const CONCEALED = new Set([
  'lost_card', 'stolen_card', 'fraudulent', 'pickup_card', 'restricted_card',
  'merchant_blacklist', 'security_violation', 'stop_payment_order',
]);

const BY_REASON = {
  insufficient_funds: userError('card_declined', 'insufficient_funds',
    'Your card has insufficient funds.', USE_ANOTHER_CARD),
  card_velocity_exceeded: userError('card_declined', 'card_velocity_exceeded',
    'Your card was declined: it has reached its spending or attempt limit.', ASK_BANK),
  expired_card: userError('card_expired', 'expired_card', 'Your card has expired.',
    'Check the expiry date, or use another card or payment method.'),
  incorrect_cvc: userError('invalid_card', 'incorrect_cvc', "Your card's security code (CVC) is incorrect.",
    'Check the 3- or 4-digit security code on your card and pay again, or use another card.'),
  incorrect_number: userError('invalid_card', 'incorrect_number', 'Your card number is incorrect.',
    'Check the card number and pay again, or use another card.'),
  processing_error: userError('processing_error', 'processing_error',
    'An error occurred while your bank was processing the card. You have not been charged.', TRY_LATER),
  authentication_required: userError('authentication_required', 'authentication_required',
    'Your bank asks for extra authentication (3-D Secure), which this checkout does not support. '
    + 'You have not been charged.', USE_ANOTHER_CARD),
};

const ALIASES = {
  invalid_cvc: 'incorrect_cvc',
  invalid_number: 'incorrect_number',
  invalid_expiry_month: 'expired_card',
  invalid_expiry_year: 'expired_card',
  issuer_not_available: 'processing_error',
  reenter_transaction: 'processing_error',
  try_again_later: 'processing_error',
  withdrawal_count_limit_exceeded: 'card_velocity_exceeded',
  authentication_not_handled: 'authentication_required',
};

/** A provider card error (a 402 body, or an intent's last_payment_error) as the customer sees it. */
function fromCardError(error) {
  const e = error || {};
  const code = e.code;
  const decline = e.decline_code;
  // card_declined carries its reason in decline_code; expired_card, incorrect_cvc... come as the code itself.
  let reason = (code === 'card_declined' || !code) && decline ? decline : code;
  reason = ALIASES[reason] || reason;
  if (CONCEALED.has(reason)) return GENERIC_DECLINE;
  return BY_REASON[reason] || GENERIC_DECLINE;
}

const authenticationRequired = () => BY_REASON.authentication_required;

/** Every attempt was refused as unavailable (502/503) or the retries ran out on it: nothing was charged. */
const providerUnavailable = () => userError('provider_unavailable', 'provider_unavailable',
  'Our card processor is not responding right now. You have not been charged.', TRY_LATER);

/** The provider throttled us (429) and the SDK does not retry that: nothing was charged. */
const providerBusy = () => userError('provider_unavailable', 'provider_busy',
  'Our card processor is busy right now. You have not been charged.',
  'Try again in a minute, or use another card or payment method.');

/** The reconcile window closed and the provider shows no charge for the order. */
const paymentUnconfirmed = () => userError('provider_unavailable', 'payment_unconfirmed',
  'We could not confirm this payment with our card processor, so the order was not placed.',
  'Try again in a few minutes or use another payment method. If a charge for this order '
  + 'appears on your statement, contact us with the order id and we will refund it.');

/** The provider refused the request itself (400/401/403/404): no retry will help. */
function fromProviderRefusal(status, error) {
  const e = error || {};
  if (status === 400 && ['payment_method', 'currency', 'amount'].includes(e.param)) {
    return userError('invalid_request', e.code || 'invalid_payment_details',
      `The card processor did not accept the ${e.param.replace('_', ' ')}.`,
      'Check the payment details and pay again, or use another card or payment method.');
  }
  // Our credentials or our request are wrong: the shop has to fix it.
  return userError('provider_error', 'provider_rejected_request',
    'Card payments are unavailable because of a problem on our side. You have not been charged.',
    'Use another payment method, or try again later; our team has been alerted.');
}

function invalidRequest(message, action = 'Correct the request and send it again.') {
  return userError('invalid_request', 'invalid_request', message, action);
}

module.exports = {
  fromCardError,
  authenticationRequired,
  providerUnavailable,
  providerBusy,
  paymentUnconfirmed,
  fromProviderRefusal,
  invalidRequest,
};
