/** The string transforms Front Door's rules engine and WAF apply to a value before matching it. */
import type { WafTransform } from '../declaration';

export function applyTransforms(value: string, transforms: readonly WafTransform[]): string {
  let out = value;
  for (const step of transforms) {
    if (step === 'Lowercase') out = out.toLowerCase();
    else if (step === 'Uppercase') out = out.toUpperCase();
    else if (step === 'Trim') out = out.trim();
    else if (step === 'RemoveNulls') out = out.replace(/\0/g, '');
    else if (step === 'UrlDecode') {
      try {
        out = decodeURIComponent(out);
      } catch {
        // An undecodable sequence is matched as it is.
      }
    }
  }
  return out;
}
