/** Small display helpers of the page. */

/** `sha256:3f2a…` → its first 12 hex digits. */
export const short = (d: string | undefined): string => (d === undefined ? '-' : d.startsWith('sha256:') ? d.slice(7, 19) : d);

/** ms since the epoch → ISO 8601 UTC without milliseconds. */
export const time = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** Thousands separators. */
export const num = (n: number): string => n.toLocaleString('en-US');
