export {
  hostedPageRoutes,
  DEFAULT_HOSTED_PAGE_LIMITS,
  type HostedPageLimits,
  type HostedPageOptions,
} from './routes.js';
export { hostedView, type HostedState, type HostedView, type SessionSnapshot } from './session-view.js';
export { formFields, parseFieldSpecs, type FormField } from './form-fields.js';
export { validateCustomerValues, type FieldError, type FieldErrorCode } from './field-validation.js';
