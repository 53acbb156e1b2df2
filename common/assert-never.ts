/** Ends every switch over a discriminated union; a new variant makes the compiler point here. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
