// A `--require` hook for tests: the process clock runs KEYFRONT_TEST_CLOCK_SHIFT_MS off (Date.now and
// `new Date()`; parsing and explicit dates are untouched), as on a phone whose clock is wrong.
'use strict';
const shift = Number(process.env.KEYFRONT_TEST_CLOCK_SHIFT_MS || 0);
if (!Number.isFinite(shift)) throw new Error('KEYFRONT_TEST_CLOCK_SHIFT_MS must be a number of milliseconds');
const RealDate = Date;
function ShiftedDate(...args) {
  if (!new.target) return new RealDate(RealDate.now() + shift).toString();
  return args.length === 0 ? new RealDate(RealDate.now() + shift) : new RealDate(...args);
}
ShiftedDate.prototype = RealDate.prototype;
ShiftedDate.now = () => RealDate.now() + shift;
ShiftedDate.parse = RealDate.parse;
ShiftedDate.UTC = RealDate.UTC;
globalThis.Date = ShiftedDate;
