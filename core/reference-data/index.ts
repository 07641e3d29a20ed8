export { COUNTRY_CODES, isCountryCode } from './countries.js';
export { CURRENCY_CODES, CURRENCY_MINOR_UNITS, isCurrencyCode, minorUnitExponent } from './currencies.js';
