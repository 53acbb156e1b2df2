/** Phone numbers never leave the service unmasked: 13812345678 → 138****5678. */
export function maskPhone(phone: string | null | undefined): string | undefined {
  if (!phone) return undefined;
  const digits = phone.replace(/\s+/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  if (digits.length < 8) return `${digits.slice(0, 1)}${'*'.repeat(digits.length - 3)}${digits.slice(-2)}`;
  return `${digits.slice(0, digits.length - 8)}****${digits.slice(-4)}`;
}

/** Finds phone-like runs (mainland mobile numbers, optionally +86) inside free text and masks them. */
export function maskPhonesInText(text: string): string {
  return text.replace(/(\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})/g, (_m, cc: string | undefined, a: string, _b: string, c: string) => `${cc ?? ''}${a}****${c}`);
}
