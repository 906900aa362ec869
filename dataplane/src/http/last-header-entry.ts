/**
 * A one-entry memo of the header tuple Spooky adds under one name: when the value repeats from
 * one request to the next (the same client address in X-Forwarded-For, the same Host, the
 * scheme), every request's list holds the same `[name, value]` tuple instead of a new one.
 *
 * Contract: header tuples are never changed in place anywhere in the data plane (lists are
 * copied and entries replaced, as `withHost` does), so sharing one across requests is safe —
 * inbound entries are already passed along by reference the same way. The memo keeps one
 * tuple alive per name; a value that changes costs the tuple it would have cost anyway.
 */
export class LastHeaderEntry {
  readonly #name: string;
  #last: [name: string, value: string] | null = null;

  /** `name`: the lowercase header name every tuple of this memo carries. */
  constructor(name: string) {
    this.#name = name;
  }

  /** `[name, value]`: the previous tuple when its value equals `value`, else a new one (remembered). */
  entry(value: string): [name: string, value: string] {
    const last = this.#last;
    if (last !== null && last[1] === value) return last;
    const made: [name: string, value: string] = [this.#name, value];
    this.#last = made;
    return made;
  }
}
