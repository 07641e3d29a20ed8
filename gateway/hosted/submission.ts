/**
 * What to do with a customer-data submission, decided from the locked session snapshot, the values
 * already stored on the transaction and the submitted values. Pure; the store applies the decision.
 *
 *   session over (paid, failed)       -> closed      (409)
 *   session expired                   -> expired     (410)
 *   fields requested, values invalid  -> invalid     (422, per-field codes)
 *   fields requested, values valid    -> accept      (merge, back to loading, CustomerDataSubmitted)
 *   already submitted, same values    -> unchanged   (200, nothing recorded: a double click or a retry)
 *   anything else                     -> not-awaiting (409)
 */
import { validateCustomerValues, type FieldError } from './field-validation.js';
import { parseFieldSpecs } from './form-fields.js';
import { hostedView, requestedFields, type SessionSnapshot } from './session-view.js';

export type SubmissionDecision =
  | { kind: 'accept'; values: Record<string, string>; fieldNames: string[] }
  | { kind: 'unchanged' }
  | { kind: 'invalid'; errors: FieldError[] }
  | { kind: 'not-awaiting' }
  | { kind: 'expired' }
  | { kind: 'closed' };

export function decideSubmission(
  snapshot: SessionSnapshot,
  storedCustomerData: Readonly<Record<string, unknown>>,
  input: Readonly<Record<string, unknown>>,
  now: Date,
): SubmissionDecision {
  const view = hostedView(snapshot, now);
  if (view.state === 'expired') return { kind: 'expired' };
  if (view.state === 'completed' || view.state === 'failed') return { kind: 'closed' };

  const specs = requestedFields(snapshot);
  if (specs) {
    const check = validateCustomerValues(specs, input);
    if (!check.ok) return { kind: 'invalid', errors: check.errors };
    return { kind: 'accept', values: check.values, fieldNames: Object.keys(check.values) };
  }

  if (snapshot.customerDataSubmittedAt !== null && isRepeat(snapshot, storedCustomerData, input)) {
    return { kind: 'unchanged' };
  }
  return { kind: 'not-awaiting' };
}

/**
 * True when the submission carries exactly what is already stored for its fields. The fields last
 * asked for usually remain on the session after a submit, so values are normalised the same way as
 * the first time; without them, trimmed values are compared.
 */
function isRepeat(
  snapshot: SessionSnapshot,
  stored: Readonly<Record<string, unknown>>,
  input: Readonly<Record<string, unknown>>,
): boolean {
  const lastAsked = parseFieldSpecs(snapshot.requiredFields);
  let submitted: Record<string, unknown>;
  if (lastAsked) {
    const check = validateCustomerValues(lastAsked, input);
    if (!check.ok) return false;
    submitted = check.values;
  } else {
    submitted = Object.fromEntries(
      Object.entries(input)
        .map(([name, value]) => [name, typeof value === 'string' ? value.trim() : value])
        .filter(([, value]) => value !== ''),
    );
  }
  const entries = Object.entries(submitted);
  return (
    entries.length > 0 &&
    entries.every(([name, value]) => Object.hasOwn(stored, name) && stored[name] === value)
  );
}
